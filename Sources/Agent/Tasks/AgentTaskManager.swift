import BosunCore
import Foundation

/// Long-running methods run as tasks: the first reply carries `agent_task_id`; `get_task` reports
/// progress and the result; `cancel_task` cancels (reference §3.4). One owner: this actor.
actor AgentTaskManager {
    enum State: Sendable {
        case running
        case finished(JSONValue)
        case failed(String)
    }

    private var states: [String: State] = [:]
    private var handles: [String: Task<Void, Never>] = [:]

    /// Starts `work` and returns its id at once.
    func start(_ work: @escaping @Sendable () async throws -> JSONValue) -> String {
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
            self.finish(id, outcome)
        }
        return id
    }

    private func finish(_ id: String, _ outcome: State) {
        states[id] = outcome
        handles[id] = nil
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
