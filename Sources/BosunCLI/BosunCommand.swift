import ArgumentParser
import BosunCore

/// `bosun`: the bosh-CLI-compatible command line.
public struct BosunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bosun",
        abstract: "Deploy and operate distributed software on VMs, the BOSH way.",
        version: BosunVersion.current,
        subcommands: [
            InterpolateCommand.self, EnvCommand.self, AliasEnvCommand.self, LoginCommand.self, LogoutCommand.self,
            TasksCommand.self, TaskCommand.self, CancelTaskCommand.self, LocksCommand.self, EventsCommand.self,
            ConfigsCommand.self, ConfigCommand.self, UpdateConfigCommand.self, DeleteConfigCommand.self,
            CloudConfigCommand.self, UpdateCloudConfigCommand.self, RuntimeConfigCommand.self,
            UpdateRuntimeConfigCommand.self,
            UploadStemcellCommand.self, StemcellsCommand.self, DeleteStemcellCommand.self, UploadReleaseCommand.self,
            ReleasesCommand.self, DeleteReleaseCommand.self, InspectReleaseCommand.self, ExportReleaseCommand.self,
            DeployCommand.self, DeploymentsCommand.self,
            ManifestCommand.self, DeleteDeploymentCommand.self, InstancesCommand.self, VMsCommand.self,
            CreateReleaseCommand.self,
            StartCommand.self, StopCommand.self, RestartCommand.self, RecreateCommand.self, RunErrandCommand.self,
            OrphanedVMsCommand.self, UpdateResurrectionCommand.self, CloudCheckCommand.self, LogsCommand.self,
            VariablesCommand.self, RegenerateVariableCommand.self, CleanUpCommand.self, DisksCommand.self,
            DeleteDiskCommand.self, OrphanDiskCommand.self, AttachDiskCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line, accepting global flags before the command name as `bosh` does
    /// (`bosun -e lite -d cf deploy …`).
    public static func run(arguments: [String]) async {
        await main(
            Self.bareSkipDrainMeaningAll(Self.movingGlobalOptionsAfterCommand(Self.joiningDashedValues(arguments))))
    }

    /// `bosh deploy --skip-drain` skips every group's drain and `--skip-drain=web` only web's; the
    /// bare form becomes `--skip-drain=*` so one option reads both. Other commands' `--skip-drain`
    /// is a plain flag, as in bosh. Runs once the command name leads (a deployment named `d` is
    /// not the command).
    static func bareSkipDrainMeaningAll(_ arguments: [String]) -> [String] {
        guard let command = arguments.first,
            command == DeployCommand.configuration.commandName || DeployCommand.configuration.aliases.contains(command)
        else { return arguments }
        return arguments.map { $0 == "--skip-drain" ? "--skip-drain=*" : $0 }
    }

    /// `--ca-cert -----BEGIN…` → `--ca-cert=-----BEGIN…`: a PEM (or a secret) starting with a dash
    /// would otherwise be read as an option; bosh accepts both forms.
    static func joiningDashedValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--"), GlobalOptions.optionsWithValues.contains(argument),
                index + 1 < arguments.count,
                arguments[index + 1].hasPrefix("-")
            {
                result.append(argument + "=" + arguments[index + 1])
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }

    /// `bosun -d cf interpolate m.yml` → `bosun interpolate -d cf m.yml`.
    static func movingGlobalOptionsAfterCommand(_ arguments: [String]) -> [String] {
        let commandNames = Set(
            configuration.subcommands.flatMap { [$0.configuration.commandName ?? ""] + $0.configuration.aliases }
        )
        .union(["help"])
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if commandNames.contains(argument) {
                return [argument] + leading + arguments[(index + 1)...]
            }
            if GlobalOptions.optionsWithValues.contains(argument) {
                leading.append(argument)
                if index + 1 < arguments.count { leading.append(arguments[index + 1]) }
                index += 2
                continue
            }
            if GlobalOptions.flags.contains(argument) || argument.hasPrefix("--") && argument.contains("=") {
                leading.append(argument)
                index += 1
                continue
            }
            break
        }
        return arguments
    }
}
