import BosunCore
import Foundation

/// Follows a task as the bosh CLI does: every half second `GET /tasks/<id>`, then the event log
/// from the byte offset already seen (`Range: bytes=N-`), rendering
/// `Task 18 | 03:31:42 | Updating instance web: web/0 (canary) (00:00:01)`, until the state is
/// final; anything but `done` is a failure.
struct TaskFollower {
    let client: DirectorClient
    let output: CommandOutput
    var pollInterval: Duration = .milliseconds(500)

    static let running: Set<String> = ["queued", "processing", "cancelling"]

    /// Returns the final task JSON; throws when it did not end `done`.
    @discardableResult
    func follow(_ id: Int) async throws(CommandFailure) -> JSONValue {
        var renderer = EventRenderer(taskID: id)
        var offset = 0
        var partial = Data()
        var task: JSONValue = [:]
        while true {
            task = try await client.json(.GET, "/tasks/\(id)")
            let response = try await client.send(
                .GET, "/tasks/\(id)/output?type=event", headers: [("Range", "bytes=\(offset)-")],
                accepting: DirectorClient.successes.union([416]))
            if response.status != 416 {
                offset += response.body.count
                partial.append(response.body)
                while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = partial[partial.startIndex..<newline]
                    partial = Data(partial[partial.index(after: newline)...])
                    guard !line.isEmpty, let event = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(line)) else { continue }
                    for text in renderer.render(event) { output.line(text) }
                }
            }
            guard let state = task["state"]?.stringValue, Self.running.contains(state) else { break }
            try? await Task.sleep(for: pollInterval)
        }
        let state = task["state"]?.stringValue ?? "unknown"
        output.line("")
        if case .int(let started)? = task["started_at"], case .int(let finished)? = task["timestamp"] {
            output.line("Task \(id) Started  \(Self.date(started))")
            output.line("Task \(id) Finished \(Self.date(finished))")
            output.line("Task \(id) Duration \(EventRenderer.duration(finished - started))")
        }
        output.line("Task \(id) \(state)")
        guard state == "done" else {
            throw CommandFailure(message: "Expected task '\(id)' to succeed but state is '\(state)'")
        }
        return task
    }

    static func date(_ seconds: Int) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM d HH:mm:ss 'UTC' yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

/// Turns event-log objects into CLI lines: a `started` and its `finished` become one line with the
/// duration; `failed` adds `L Error:`; task-level errors print `Error:`; warnings and deprecations
/// print as such.
struct EventRenderer {
    let taskID: Int
    private var started: [String: Int] = [:]

    init(taskID: Int) { self.taskID = taskID }

    static func clock(_ seconds: Int) -> String {
        let day = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02d", day / 3600, day / 60 % 60, day % 60)
    }

    static func duration(_ seconds: Int) -> String {
        String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    mutating func render(_ event: JSONValue) -> [String] {
        let time: Int = { if case .int(let t)? = event["time"] { return t } else { return 0 } }()
        let prefix = "Task \(taskID) | \(Self.clock(time)) | "
        if let error = event["error"], case .object = error {
            return [prefix + "Error: " + (error["message"]?.stringValue ?? "")]
        }
        if let type = event["type"]?.stringValue, let message = event["message"]?.stringValue {
            return [prefix + (type == "deprecation" ? "Deprecation: " : "Warning: ") + message]
        }
        guard let stage = event["stage"]?.stringValue else { return [] }
        let tags = (event["tags"]?.arrayValue ?? []).compactMap(\.stringValue)
        let name = stage + (tags.isEmpty ? "" : " " + tags.joined(separator: ", ")) + ": " + (event["task"]?.stringValue ?? "")
        switch event["state"]?.stringValue {
        case "started":
            started[name] = time
            return []
        case "finished":
            return [prefix + name + " (\(Self.duration(time - (started.removeValue(forKey: name) ?? time))))"]
        case "failed":
            let elapsed = time - (started.removeValue(forKey: name) ?? time)
            return [
                prefix + name + " (\(Self.duration(elapsed)))",
                String(repeating: " ", count: prefix.count) + "L Error: " + (event["data"]?["error"]?.stringValue ?? ""),
            ]
        default:
            return []
        }
    }
}
