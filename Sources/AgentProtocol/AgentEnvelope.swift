import BosunCore

/// A request from the director to an agent: `{"protocol": 3, "method", "arguments": [...], "reply_to"}`.
public struct AgentRequest: Codable, Sendable, Equatable {
    /// The protocol version the director speaks.
    public static let currentProtocol = 3

    public var `protocol`: Int
    public var method: String
    /// Positional arguments.
    public var arguments: [JSONValue]
    public var replyTo: String

    public init(method: AgentMethod, replyTo: String) {
        self.protocol = Self.currentProtocol
        self.method = method.name
        self.arguments = method.arguments
        self.replyTo = replyTo
    }

    public init(protocol: Int = AgentRequest.currentProtocol, method: String, arguments: [JSONValue], replyTo: String) {
        self.protocol = `protocol`
        self.method = method
        self.arguments = arguments
        self.replyTo = replyTo
    }

    enum CodingKeys: String, CodingKey {
        case `protocol`, method, arguments
        case replyTo = "reply_to"
    }
}

/// An agent's reply: `{"value": …}` or `{"exception": {"message": "…"}}`.
public enum AgentResponse: Sendable, Equatable, Codable {
    case value(JSONValue)
    case exception(String)

    private enum CodingKeys: String, CodingKey { case value, exception }
    private struct ExceptionBody: Codable { var message: String }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let exception = try container.decodeIfPresent(ExceptionBody.self, forKey: .exception) {
            self = .exception(exception.message)
        } else {
            self = .value(try container.decodeIfPresent(JSONValue.self, forKey: .value) ?? .null)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .value(let value): try container.encode(value, forKey: .value)
        case .exception(let message): try container.encode(ExceptionBody(message: message), forKey: .exception)
        }
    }

    /// The agent's answer for unknown methods starts with this; the director uses it to detect
    /// older agents.
    public static func unknownMethod(_ method: String) -> AgentResponse { .exception("unknown message \(method)") }

    /// An async method's first reply, or a `get_task` reply while the task still runs.
    public var runningTask: AgentTaskHandle? {
        guard case .value(let value) = self, let id = value["agent_task_id"]?.stringValue else { return nil }
        return AgentTaskHandle(agentTaskID: id, state: value["state"]?.stringValue ?? "running")
    }
}

/// `{"agent_task_id": "<uuid>", "state": "running"}`.
public struct AgentTaskHandle: Codable, Sendable, Equatable {
    public var agentTaskID: String
    public var state: String

    public init(agentTaskID: String, state: String = "running") {
        self.agentTaskID = agentTaskID
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case agentTaskID = "agent_task_id"
        case state
    }
}
