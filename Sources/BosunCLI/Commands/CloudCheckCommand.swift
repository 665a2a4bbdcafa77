import ArgumentParser
import BosunCore
import Foundation

/// `bosun -d NAME cck [--report | --auto | --resolution NAME...]`: scans the deployment's VMs,
/// agents and disks, lists the problems, and resolves them — each with its default resolution
/// (`--auto`) or with the first given resolution its type allows. `--report` only lists, and
/// exits 1 when there is a problem (for scripts).
struct CloudCheckCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud-check", abstract: "Cloud consistency check and interactive repair",
        aliases: ["cck", "cloudcheck"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("a"), .long], help: "Resolve problems automatically") var auto = false
    @Flag(name: .long, help: "Only generate report; don't attempt to resolve problems") var report = false
    @Option(name: .long, help: "Apply resolution of given type (repeatable)") var resolution: [String] = []

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let deployment = try deploymentName()
        let scan = try await client.startTask(.POST, "/deployments/\(deployment)/scans")
        try await TaskFollower(client: client, output: output).follow(scan)
        let problems = try await client.json(.GET, "/deployments/\(deployment)/problems").arrayValue ?? []
        output.table(
            "problems", columns: ["#", "Type", "Description"],
            rows: problems.map { [$0["id"]?.cell ?? "", $0["type"]?.cell ?? "", $0["description"]?.cell ?? ""] })
        if report {
            if !problems.isEmpty {
                throw CommandFailure(message: "\(problems.count) problem\(problems.count == 1 ? "" : "s") found")
            }
            return
        }
        guard !problems.isEmpty else { return }
        guard auto || !resolution.isEmpty else {
            throw CommandFailure(message: "Choose how to resolve: --auto (each problem's default) or --resolution NAME")
        }
        var chosen: [String: JSONValue] = [:]
        for problem in problems {
            let allowed = (problem["resolutions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            let pick = auto ? allowed.first : resolution.first { allowed.contains($0) }
            if let pick, let id = problem["id"]?.cell { chosen[id] = .string(pick) }
        }
        guard !chosen.isEmpty else {
            throw CommandFailure(message: "No problem can be resolved by \(resolution.joined(separator: ", "))")
        }
        let body = Data(((try? JSONCoding.string(JSONValue.object(["resolutions": .object(chosen)]))) ?? "{}").utf8)
        let apply = try await client.startTask(
            .PUT, "/deployments/\(deployment)/problems", body: body, contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(apply)
    }
}
