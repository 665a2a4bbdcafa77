import BosunCore
import Foundation

/// A task's three outputs as files in `<state>/tasks/<id>/`: `event` (one JSON object per line,
/// what the CLI renders), `debug` (free text) and `result` (what the task returns). Appends are
/// single `write` calls on `O_APPEND` descriptors, so a crash leaves whole lines.
public struct TaskOutput: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case event, debug, result, cpi
    }

    public let directory: String

    public init(tasksDirectory: String, taskID: Int) {
        directory = tasksDirectory + "/\(taskID)"
    }

    public func path(_ kind: Kind) -> String { directory + "/" + kind.rawValue }

    public func append(_ kind: Kind, _ text: String) throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let descriptor = open(path(kind), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw TaskOutputError(description: "cannot open \(path(kind))") }
        defer { close(descriptor) }
        let written = text.utf8.withContiguousStorageIfAvailable { write(descriptor, $0.baseAddress, $0.count) } ?? -1
        guard written == text.utf8.count else { throw TaskOutputError(description: "cannot write \(path(kind))") }
    }

    /// One event-log line; never anything but a JSON object (the CLI panics on anything else).
    public func event(_ object: JSONValue) throws {
        let data = try JSONCoding.encoder.encode(object)
        try append(.event, String(decoding: data, as: UTF8.self) + "\n")
    }

    /// The bytes of an output from `offset` on (nil when the output does not exist yet).
    public func read(_ kind: Kind, from offset: Int = 0) -> (data: Data, size: Int)? {
        guard let handle = FileHandle(forReadingAtPath: path(kind)) else { return nil }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        guard offset < size else { return (Data(), size) }
        try? handle.seek(toOffset: UInt64(offset))
        return ((try? handle.readToEnd()) ?? Data(), size)
    }
}

public struct TaskOutputError: Error, CustomStringConvertible {
    public var description: String
}

/// What a running task writes to its event log, in the director's shapes (stage/tags/task/index/
/// total/progress/state), plus its debug log.
public struct TaskEventLog: Sendable {
    let output: TaskOutput

    /// `started`, then `finished` or `failed` around `body`, as one CLI line with its duration.
    /// `data` turns the result into the `finished` event's data (measurements, choices made).
    public func step<T: Sendable>(
        stage: String, task: String, tags: [String] = [], index: Int = 1, total: Int = 1,
        data: (T) -> JSONValue = { _ in [:] }, _ body: () async throws -> T
    ) async throws -> T {
        try record(stage: stage, task: task, tags: tags, index: index, total: total, state: "started", progress: 0)
        do {
            let value = try await body()
            try record(
                stage: stage, task: task, tags: tags, index: index, total: total, state: "finished", progress: 100,
                data: data(value))
            return value
        } catch {
            try? record(
                stage: stage, task: task, tags: tags, index: index, total: total, state: "failed", progress: 100,
                data: ["error": .string("\(error)")])
            throw error
        }
    }

    func record(
        stage: String, task: String, tags: [String], index: Int, total: Int, state: String, progress: Int,
        data: JSONValue = [:]
    ) throws {
        try output.event([
            "time": .int(Int(Date().timeIntervalSince1970)), "stage": .string(stage),
            "tags": .array(tags.map(JSONValue.string)),
            "total": .int(total), "task": .string(task), "index": .int(index), "state": .string(state),
            "progress": .int(progress),
            "data": data,
        ])
    }

    /// A warning the CLI prints as `Warning: <message>`: `{"time", "type": "warning", "message"}`.
    public func warning(_ message: String) throws {
        try output.event([
            "time": .int(Int(Date().timeIntervalSince1970)), "type": "warning", "message": .string(message),
        ])
    }

    /// The task-level error line: `{"time", "error": {"code", "message"}}`.
    public func error(code: Int, message: String) throws {
        try output.event([
            "time": .int(Int(Date().timeIntervalSince1970)),
            "error": ["code": .int(code), "message": .string(message)],
        ])
    }

    public func debug(_ line: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        try? output.append(.debug, "\(formatter.string(from: Date())) \(line)\n")
    }
}
