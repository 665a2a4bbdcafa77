import AgentProtocol
import BosunCore

/// One protocol method, one type (as bosh-agent keeps one action per file).
protocol AgentAction: Sendable {
    /// Runs in the background behind an `agent_task_id` when true.
    var isAsynchronous: Bool { get }
    /// The agent stops its jobs and exits once this method's reply is out (`shutdown`).
    var endsAgentAfterReply: Bool { get }
    /// The task's result survives an agent restart (`update_settings`).
    var isPersistent: Bool { get }
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue
}

extension AgentAction {
    var isAsynchronous: Bool { false }
    var endsAgentAfterReply: Bool { false }
    var isPersistent: Bool { false }
}

/// A failure the director sees as `{"exception": {"message": …}}`.
struct ActionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Positional argument access with errors that say which argument was wrong.
extension Array where Element == JSONValue {
    func string(_ index: Int, _ name: String) throws -> String {
        guard index < count, case .string(let value) = self[index] else {
            throw ActionError(index < count ? "Argument \(index) (\(name)) must be a string" : "Not enough arguments, expected \(name)")
        }
        return value
    }

    func object(_ index: Int, _ name: String) throws -> JSONValue {
        guard index < count, case .object = self[index] else {
            throw ActionError(index < count ? "Argument \(index) (\(name)) must be an object" : "Not enough arguments, expected \(name)")
        }
        return self[index]
    }
}
