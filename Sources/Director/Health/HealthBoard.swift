import Foundation
import Synchronization

/// What the health monitor knows about each agent, for the views: `instances --details` (last
/// heartbeat, timed out) and `/metrics`. Written by the monitor only.
public final class HealthBoard: Sendable {
    public struct Entry: Sendable, Equatable {
        /// When the agent's last heartbeat arrived.
        public var lastHeartbeat: Date?
        public var jobState: String?
        /// The monitor counts the agent as timed out.
        public var timedOut = false
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    func heard(agentID: String, jobState: String?, at time: Date = Date()) {
        entries.withLock {
            $0[agentID, default: Entry()].lastHeartbeat = time
            $0[agentID]?.jobState = jobState
            $0[agentID]?.timedOut = false
        }
    }

    /// After an analysis: these agents are timed out, the others of `known` not; agents no VM
    /// wants are forgotten.
    func analyzed(known: Set<String>, timedOut: Set<String>) {
        entries.withLock { entries in
            entries = entries.filter { known.contains($0.key) }
            for agent in known { entries[agent, default: Entry()].timedOut = timedOut.contains(agent) }
        }
    }

    public func entry(agentID: String) -> Entry? { entries.withLock { $0[agentID] } }

    /// Agents known, and those timed out, for `/metrics`.
    public var counts: (known: Int, timedOut: Int) {
        entries.withLock { entries in (entries.count, entries.values.filter(\.timedOut).count) }
    }
}
