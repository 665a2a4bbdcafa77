import AgentProtocol
import BosunCore
import Foundation

/// `start`: loads the processes of the applied jobs (`config/bpm.yml`) and starts them in order;
/// answers `"started"` at once, as BOSH does — the director then watches `get_state`.
struct StartAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        do {
            try await agent.supervisor.load(jobs: agent.appliedJobNames())
        } catch {
            throw ActionError("Starting jobs: \(error)")
        }
        await agent.supervisor.startAll()
        return "started"
    }
}

/// `stop`: stops every process in reverse order (shutdown signal, then SIGKILL after the grace).
struct StopAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        await agent.supervisor.stopAll()
        return "stopped"
    }
}
