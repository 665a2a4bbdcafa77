import ArgumentParser
import BosunCore
import Foundation

/// What `start`, `stop`, `restart` and `recreate` share: the target (`GROUP[/INDEX-OR-ID]`, or the
/// whole deployment), the confirmation, the request bosh sends, and the task followed.
protocol InstanceStateCommand: DirectorCommand {
    var target: String? { get }
    var skipDrain: Bool { get }
    var policy: UpdatePolicyOptions { get }
    /// `--dry-run`: the director plans (and for recreate renders) but changes nothing.
    var dryRun: Bool { get }
    /// `recreate --fix`: instances whose VM is gone or silent get new VMs.
    var fix: Bool { get }
    /// `recreate --vms-created-before TIME`: only instances whose VM is older.
    var vmsCreatedBefore: String? { get }
    func state() -> String
}

/// `--canaries` / `--max-in-flight`: override the deployed manifest's update policy.
struct UpdatePolicyOptions: ParsableArguments {
    @Option(name: .long, help: "Override manifest values for canaries") var canaries: String?
    @Option(name: .customLong("max-in-flight"), help: "Override manifest values for max_in_flight") var maxInFlight:
        String?
}

extension InstanceStateCommand {
    var fix: Bool { false }
    var vmsCreatedBefore: String? { nil }

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let name = try deploymentName()
        try confirm(output)
        let path = target.map { $0.split(separator: "/", maxSplits: 1).map(String.init).joined(separator: "/") } ?? "*"
        let query = Self.query([
            ("state", state()), ("skip_drain", skipDrain ? "true" : nil), ("canaries", policy.canaries),
            ("max_in_flight", policy.maxInFlight),
            ("fix", fix ? "true" : nil), ("dry_run", dryRun ? "true" : nil),
            ("recreate_vms_created_before", vmsCreatedBefore),
        ])
        let id = try await client.startTask(.PUT, "/deployments/\(name)/jobs/\(path)" + query, contentType: "text/yaml")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

struct StartCommand: InstanceStateCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start instance(s)")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Instance group or instance (GROUP[/INDEX-OR-ID])") var target: String?
    @OptionGroup var policy: UpdatePolicyOptions
    @Flag(name: .customLong("dry-run"), help: "Show what would change; change nothing") var dryRun = false
    var skipDrain: Bool { false }
    func state() -> String { "started" }
}

struct StopCommand: InstanceStateCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop instance(s)")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Instance group or instance (GROUP[/INDEX-OR-ID])") var target: String?
    @OptionGroup var policy: UpdatePolicyOptions
    @Flag(name: .customLong("dry-run"), help: "Show what would change; change nothing") var dryRun = false
    @Flag(name: .long, help: "Delete VM (but keep persistent disk)") var hard = false
    @Flag(name: .customLong("skip-drain"), help: "Skip running drain scripts") var skipDrain = false
    func state() -> String { hard ? "detached" : "stopped" }
}

struct RestartCommand: InstanceStateCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart instance(s)")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Instance group or instance (GROUP[/INDEX-OR-ID])") var target: String?
    @OptionGroup var policy: UpdatePolicyOptions
    @Flag(name: .customLong("dry-run"), help: "Show what would change; change nothing") var dryRun = false
    @Flag(name: .customLong("skip-drain"), help: "Skip running drain scripts") var skipDrain = false
    func state() -> String { "restart" }
}

struct RecreateCommand: InstanceStateCommand {
    static let configuration = CommandConfiguration(commandName: "recreate", abstract: "Recreate instance(s)")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Instance group or instance (GROUP[/INDEX-OR-ID])") var target: String?
    @OptionGroup var policy: UpdatePolicyOptions
    @Flag(name: .customLong("dry-run"), help: "Show what would change; change nothing") var dryRun = false
    @Flag(name: .customLong("skip-drain"), help: "Skip running drain scripts") var skipDrain = false
    @Flag(
        name: .long,
        help: "Recreate instances whose VM is gone or whose agent does not answer, instead of failing on them")
    var fix = false
    @Option(name: .customLong("vms-created-before"), help: "Only recreate VMs created before this RFC 3339 time")
    var vmsCreatedBefore: String?
    func state() -> String { "recreate" }
}

/// `bosun run-errand NAME`: runs the errand on every instance that has its job, then prints each
/// instance's exit code, stdout and stderr; exits 1 when any run did not exit 0.
struct RunErrandCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "run-errand", abstract: "Run errand")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Errand name") var name: String
    @Option(
        name: .customLong("instance"),
        help: "Instance or group the errand should run on (GROUP[/INDEX-OR-ID]; repeatable)")
    var instances: [String] = []
    @Flag(name: .customLong("keep-alive"), help: "Keep an errand group's VMs after the run; the next run reuses them")
    var keepAlive = false
    @Flag(
        name: .customLong("when-changed"),
        help: "Skip the errand when it last succeeded everywhere and nothing changed since")
    var whenChanged = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let deployment = try deploymentName()
        let slugs: [JSONValue] = instances.map { slug in
            let parts = slug.split(separator: "/", maxSplits: 1).map(String.init)
            return parts.count == 2 ? ["group": .string(parts[0]), "id": .string(parts[1])] : ["group": .string(slug)]
        }
        let options: JSONValue = [
            "keep-alive": .bool(keepAlive), "when-changed": .bool(whenChanged), "instances": .array(slugs),
        ]
        let body = Data(((try? JSONCoding.string(options)) ?? "{}").utf8)
        let id = try await client.startTask(
            .POST, "/deployments/\(deployment)/errands/\(name)/runs", body: body, contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(id)
        let result = try await client.send(.GET, "/tasks/\(id)/output?type=result")
        let runs = String(decoding: result.body, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONCoding.decoder.decode(JSONValue.self, from: Data($0.utf8))
        }
        output.line("")
        output.table(
            "errand runs", columns: ["Instance", "Exit Code", "Stdout", "Stderr"],
            rows: runs.map { run in
                [
                    "\(run["instance"]?["group"]?.cell ?? "")/\(run["instance"]?["id"]?.cell ?? "")",
                    run["exit_code"]?.cell ?? "",
                    run["stdout"]?.cell ?? "", run["stderr"]?.cell ?? "",
                ]
            })
        let failed = runs.filter { $0["exit_code"] != .int(0) }
        if !failed.isEmpty {
            throw CommandFailure(
                message:
                    "Errand '\(name)' completed with a non-zero exit code on \(failed.count) instance\(failed.count == 1 ? "" : "s")"
            )
        }
    }
}
