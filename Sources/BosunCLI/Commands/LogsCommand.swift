import ArgumentParser
import BosunCore
import Foundation

/// `bosun -d NAME logs [GROUP[/ID]] [--agent] [--system] [--all-logs] [--filter F] [--dir D]`:
/// the chosen instances' logs (job logs by default) as one tarball in `--dir` (the current
/// directory by default), named `<deployment>[.<target>]-<time>.tgz`.
struct LogsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch logs from instance(s)")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Instance group or instance (GROUP[/INDEX-OR-ID])") var target: String?
    @Flag(name: .long, help: "Include only agent logs") var agent = false
    @Flag(name: .long, help: "Include only system logs") var system = false
    @Flag(name: .customLong("all-logs"), help: "Include job, agent and system logs") var allLogs = false
    @Option(name: .customLong("filter"), help: "Filter in logs (repeatable; globs relative to each log directory)") var filters: [String] = []
    @Option(name: .long, help: "Destination directory") var dir: String = "."

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let deployment = try deploymentName()
        let parts = (target ?? "").split(separator: "/", maxSplits: 1).map(String.init)
        let group = parts.first ?? "*", instance = parts.count > 1 ? parts[1] : "*"
        let type = allLogs ? "job,agent,system" : agent ? "agent" : system ? "system" : "job"
        var query = "type=\(type)"
        if !filters.isEmpty { query += "&filters=" + (filters.joined(separator: ",").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "") }
        let id = try await client.startTask(.GET, "/deployments/\(deployment)/jobs/\(group.isEmpty ? "*" : group)/\(instance)/logs?\(query)")
        let task = try await TaskFollower(client: client, output: output).follow(id)
        guard let blob = task["result"]?.stringValue, !blob.isEmpty else { throw CommandFailure(message: "Task \(id) returned no logs") }
        let tarball = try await client.send(.GET, "/resources/\(blob)")
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let name = "\(deployment)\(target.map { "." + $0.replacingOccurrences(of: "/", with: ".") } ?? "")-\(stamp).tgz"
        let path = (dir as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: tarball.body) else {
            throw CommandFailure(message: "Cannot write '\(path)'")
        }
        output.line("Downloading resource '\(blob)' to '\(path)'...")
    }
}
