import ArgumentParser
import BosunCore
import Foundation

/// `bosun tasks`: running tasks, or with `-r`/`--recent N` the last N (30 by default).
struct TasksCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "tasks", abstract: "List running or recent tasks", aliases: ["ts"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .customShort("r"), help: "Show the 30 most recent tasks") var recentFlag = false
    @Option(name: .customLong("recent"), help: "Number of recent tasks to show") var recent: Int?
    @Flag(name: [.customShort("a"), .long], help: "Include all task types (ssh, logs, vms, etc)") var all = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let limit = recent ?? (recentFlag ? 30 : nil)
        let deployment = global.resolved(environment: ProcessInfo.processInfo.environment).deployment
        // As bosh asks: running tasks of every type; recent ones user-facing only unless --all.
        let verbose = limit == nil || all ? "2" : "1"
        let query = Self.query([
            ("state", limit == nil ? "processing,cancelling,queued" : nil), ("limit", limit.map(String.init)),
            ("verbose", verbose), ("deployment", deployment),
        ])
        let tasks = try await client.json(.GET, "/tasks" + query).arrayValue ?? []
        let columns = ["ID", "State", "Started At", "Finished At", "User", "Deployment", "Description", "Result"]
        let rows = tasks.map { task -> [String] in
            let running = TaskFollower.running.contains(task["state"]?.stringValue ?? "")
            let started: String = { if case .int(let s)? = task["started_at"], s > 0 { return TaskFollower.date(s) } else { return "-" } }()
            let finished: String = {
                if !running, case .int(let t)? = task["timestamp"], t > 0 { return TaskFollower.date(t) } else { return "-" }
            }()
            return [
                task["id"]?.cell ?? "", task["state"]?.cell ?? "", started, finished, task["user"]?.cell ?? "",
                task["deployment"]?.cell ?? "", task["description"]?.cell ?? "", task["result"]?.cell ?? "",
            ]
        }
        output.table("tasks", columns: columns, rows: rows)
    }
}

/// `bosun task [ID]`: follows a task's event log (or prints its `--debug`, `--result`, `--event`,
/// `--cpi` output); without an id, the oldest running task.
struct TaskCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Show task status and start tracking its output", aliases: ["t"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Task ID") var id: Int?
    @Flag(name: .long, help: "Track task event log") var event = false
    @Flag(name: .long, help: "Track CPI log") var cpi = false
    @Flag(name: .long, help: "Track debug log") var debug = false
    @Flag(name: .long, help: "Track result log") var result = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        var taskID = id
        if taskID == nil {
            let running = try await client.json(.GET, "/tasks?state=processing,cancelling,queued&verbose=1").arrayValue ?? []
            guard case .int(let first)? = running.last?["id"] else { throw CommandFailure(message: "No task found") }
            taskID = first
        }
        let kind = debug ? "debug" : result ? "result" : cpi ? "cpi" : event ? "event" : nil
        guard let kind else {
            try await TaskFollower(client: client, output: output).follow(taskID!)
            return
        }
        // Raw output: wait for the end, then print it whole.
        while TaskFollower.running.contains(try await client.json(.GET, "/tasks/\(taskID!)")["state"]?.stringValue ?? "") {
            try? await Task.sleep(for: .milliseconds(500))
        }
        let response = try await client.send(.GET, "/tasks/\(taskID!)/output?type=\(kind)")
        output.block(response.text)
    }
}

/// `bosun cancel-task ID`.
struct CancelTaskCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "cancel-task", abstract: "Cancel task at its next checkpoint", aliases: ["ct"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Task ID") var id: Int

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        _ = try await client.send(.DELETE, "/task/\(id)")
    }
}

/// `bosun locks`.
struct LocksCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "locks", abstract: "List current locks")
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let locks = try await client.json(.GET, "/locks").arrayValue ?? []
        let rows = locks.map { lock -> [String] in
            let expires = Double(lock["timeout"]?.stringValue ?? "").map { TaskFollower.date(Int($0)) } ?? ""
            return [lock["type"]?.cell ?? "", (lock["resource"]?.arrayValue ?? []).map(\.cell).joined(separator: ":"), lock["task_id"]?.cell ?? "", expires]
        }
        output.table("locks", columns: ["Type", "Resource", "Task ID", "Expires At"], rows: rows)
    }
}

/// `bosun events` with bosh's filters.
struct EventsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "List events")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("before-id")) var beforeID: Int?
    @Option(name: .long) var before: String?
    @Option(name: .long) var after: String?
    @Option(name: .long) var task: String?
    @Option(name: .long) var instance: String?
    @Option(name: .customLong("event-user")) var eventUser: String?
    @Option(name: .long) var action: String?
    @Option(name: .customLong("object-type")) var objectType: String?
    @Option(name: .customLong("object-name")) var objectName: String?

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let deployment = global.resolved(environment: ProcessInfo.processInfo.environment).deployment
        let query = Self.query([
            ("before_id", beforeID.map(String.init)), ("before_time", before), ("after_time", after), ("task", task),
            ("instance", instance), ("user", eventUser), ("action", action), ("object_type", objectType),
            ("object_name", objectName), ("deployment", deployment),
        ])
        let events = try await client.json(.GET, "/events" + query).arrayValue ?? []
        let rows = events.map { event -> [String] in
            let time: String = { if case .int(let t)? = event["timestamp"] { return TaskFollower.date(t) } else { return "" } }()
            let context = event["context"] == [:] ? "" : event["context"]?.cell ?? ""
            return [
                event["id"]?.cell ?? "", time, event["user"]?.cell ?? "", event["action"]?.cell ?? "", event["object_type"]?.cell ?? "",
                event["object_name"]?.cell ?? "", event["task"]?.cell ?? "", event["deployment"]?.cell ?? "",
                event["instance"]?.cell ?? "", context, event["error"]?.cell ?? "",
            ]
        }
        output.table(
            "events",
            columns: ["ID", "Time", "User", "Action", "Object Type", "Object Name", "Task ID", "Deployment", "Instance", "Context", "Error"],
            rows: rows)
    }
}
