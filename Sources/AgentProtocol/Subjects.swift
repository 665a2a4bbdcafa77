/// NATS subjects of the director↔agent conversation (BOSH agent protocol 3).
///
/// The director sends requests to `agent.<agent-id>` and names a per-request reply subject under
/// `director.<director-uuid>.`; agents publish heartbeats and alerts under `hm.agent.`.
public enum AgentSubjects {
    /// The subject an agent subscribes to for the director's requests.
    public static func inbox(agentID: String) -> String { "agent.\(agentID)" }

    /// The subject a single director request expects its reply on.
    public static func reply(directorUUID: String, requestID: String) -> String {
        "director.\(directorUUID).\(requestID)"
    }

    /// The subject an agent publishes its heartbeat on.
    public static func heartbeat(agentID: String) -> String { "hm.agent.heartbeat.\(agentID)" }

    /// The subject an agent publishes alerts on.
    public static func alert(agentID: String) -> String { "hm.agent.alert.\(agentID)" }
}
