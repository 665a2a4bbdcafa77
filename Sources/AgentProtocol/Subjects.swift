import BosunCore

/// NATS subjects of the director↔agent conversation (BOSH agent protocol 3).
public enum AgentSubjects {
    /// Where an agent receives the director's requests.
    public static func inbox(agentID: String) -> String { "agent.\(agentID)" }

    /// Where an agent replies to one request. The director subscribes once to
    /// `director.<director-uuid>.>` and routes on the last token.
    public static func reply(directorUUID: String, agentID: String, requestID: String) -> String {
        "director.\(directorUUID).\(agentID).\(requestID)"
    }

    /// Everything the director receives: all replies to its requests.
    public static func directorReplies(directorUUID: String) -> String { "director.\(directorUUID).>" }

    public static func heartbeat(agentID: String) -> String { "hm.agent.heartbeat.\(agentID)" }
    public static func alert(agentID: String) -> String { "hm.agent.alert.\(agentID)" }
    public static func shutdown(agentID: String) -> String { "hm.agent.shutdown.\(agentID)" }

    /// Director to health monitor (deploy begin/end alerts).
    public static let directorAlert = "hm.director.alert"

    /// What the health monitor subscribes to.
    public static let allHeartbeats = "hm.agent.heartbeat.*"
    public static let allAlerts = "hm.agent.alert.*"
    public static let allShutdowns = "hm.agent.shutdown.*"
}
