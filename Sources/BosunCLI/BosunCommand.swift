import ArgumentParser
import BosunCore

/// `bosun`: the bosh-CLI-compatible command line.
public struct BosunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bosun",
        abstract: "Deploy and operate distributed software on VMs, the BOSH way.",
        version: BosunVersion.current,
        subcommands: [InterpolateCommand.self]
    )

    public init() {}

    /// Runs the command line, accepting global flags before the command name as `bosh` does
    /// (`bosun -e lite -d cf deploy …`).
    public static func run(arguments: [String]) {
        main(Self.movingGlobalOptionsAfterCommand(arguments))
    }

    /// `bosun -d cf interpolate m.yml` → `bosun interpolate -d cf m.yml`.
    static func movingGlobalOptionsAfterCommand(_ arguments: [String]) -> [String] {
        let commandNames = Set(
            configuration.subcommands.flatMap { [$0.configuration.commandName ?? ""] + $0.configuration.aliases })
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
