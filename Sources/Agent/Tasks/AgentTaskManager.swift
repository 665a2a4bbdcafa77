import BosunCore
import Foundation

/// Long-running methods run as tasks: the first reply carries `agent_task_id`; `get_task` reports
/// progress and the result; `cancel_task` cancels (reference §3.4). Results of persistent tasks
/// (`update_settings`, after which the agent may restart) are kept in `tasks.json`, so `get_task`
/// still answers across the restart. One owner: this actor.
actor AgentTaskManager {
    enum State: Sendable {
        case running
        case finished(JSONValue)
        case failed(String)
    }

    private var states: [String: State] = [:]
    private var handles: [String: Task<Void, Never>] = [:]
    private let persistenceFile: String?
    /// Finished persistent tasks, as saved: id → `{"value": …}` or `{"exception": message}`.
    private var persisted: [String: JSONValue] = [:]

    init(persistenceFile: String? = nil) {
        self.persistenceFile = persistenceFile
        if let persistenceFile, let data = FileManager.default.contents(atPath: persistenceFile),
            case .object(let saved)? = try? JSONCoding.decoder.decode(JSONValue.self, from: data)
        {
            persisted = saved
            for (id, outcome) in saved {
                if let value = outcome["value"] { states[id] = .finished(value) }
                if let message = outcome["exception"]?.stringValue { states[id] = .failed(message) }
            }
        }
    }

    /// Starts `work` and returns its id at once.
    func start(persistent: Bool = false, _ work: @escaping @Sendable () async throws -> JSONValue) -> String {
        let id = UUID().uuidString.lowercased()
        states[id] = .running
        handles[id] = Task {
            let outcome: State
            do {
                outcome = .finished(try await work())
            } catch is CancellationError {
                outcome = .failed("Task \(id) cancelled")
            } catch {
                outcome = .failed("\(error)")
            }
            self.finish(id, outcome, persistent: persistent)
        }
        return id
    }

    private func finish(_ id: String, _ outcome: State, persistent: Bool) {
        states[id] = outcome
        handles[id] = nil
        guard persistent, let persistenceFile else { return }
        switch outcome {
        case .finished(let value): persisted[id] = ["value": value]
        case .failed(let message): persisted[id] = ["exception": .string(message)]
        case .running: return
        }
        if let data = try? JSONCoding.encoder.encode(JSONValue.object(persisted)) {
            try? Filesystem.writePrivately(data, to: persistenceFile)
        }
    }

    func state(of id: String) -> State? { states[id] }

    /// Cancels a running task; true when there was one.
    func cancel(_ id: String) -> Bool {
        guard let handle = handles[id] else { return false }
        handle.cancel()
        return true
    }

    /// Waits for every running task (used at shutdown and by tests).
    func waitForAll() async {
        for handle in Array(handles.values) { await handle.value }
    }
}
