import AgentProtocol
import BosunCore
import Foundation

/// `start`: loads the processes of the applied jobs (`config/bpm.yml` or `monit`) and starts them
/// in order; answers `"started"` at once, as BOSH does — the director then watches `get_state`.
/// Refused, naming the jobs, when their rendered templates are missing.
struct StartAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        try await agent.startJobs()
        return "started"
    }
}

/// `stop`: stops every process in reverse order (shutdown signal, then SIGKILL after the grace).
struct StopAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        await agent.supervisor.stopAll()
        _ = FileManager.default.createFile(atPath: agent.paths.stoppedMarker, contents: nil)
        return "stopped"
    }
}
