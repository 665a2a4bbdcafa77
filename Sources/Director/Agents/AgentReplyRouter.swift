import AgentProtocol
import BosunCore
import Foundation
import NATS
import NIOCore
import NIOPosix
import Synchronization

/// The director's one subscription for agent replies: `director.<director-uuid>.>`. Each request
/// gets a reply subject ending in its own id, and the router hands the reply to whoever waits.
public final class AgentReplyRouter: Sendable {
    public let directorUUID: String
    let nats: NATSClient
    private let waiting = Mutex<[String: CheckedContinuation<NATSMessage, any Error>]>([:])
    private let subscription: NATSSubscription
    private let timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()

    /// Subscribes; run `route()` in a task to start dispatching replies.
    public init(nats: NATSClient, directorUUID: String) async throws(NATSClientError) {
        self.nats = nats
        self.directorUUID = directorUUID
        self.subscription = try await nats.subscribe(to: AgentSubjects.directorReplies(directorUUID: directorUUID))
    }

    /// Delivers replies until the subscription ends; then fails whoever still waits.
    public func route() async {
        do {
            for try await message in subscription {
                let requestID = message.subject.split(separator: ".").last.map(String.init) ?? ""
                let waiter = waiting.withLock { $0.removeValue(forKey: requestID) }
                waiter?.resume(returning: message)
            }
        } catch {}
        let remaining = waiting.withLock { waiting in
            defer { waiting = [:] }
            return Array(waiting.values)
        }
        for waiter in remaining { waiter.resume(throwing: NATSClientError(.shutdown, "agent reply router stopped")) }
    }

    public func stop() { nats.unsubscribe(subscription) }

    /// Sends without waiting for a reply (`shutdown`, `delete_arp_entries`).
    func send(_ method: AgentMethod, agentID: String) throws {
        let replyTo = AgentSubjects.reply(directorUUID: directorUUID, agentID: agentID, requestID: UUID().uuidString.lowercased())
        let payload = ByteBuffer(bytes: try JSONCoding.encoder.encode(AgentRequest(method: method, replyTo: replyTo)))
        try nats.publish(payload, to: AgentSubjects.inbox(agentID: agentID))
    }

    /// Sends `method` to the agent with a fresh reply subject (in the envelope's `reply_to`, where
    /// agents look for it) and waits for the reply or the timeout.
    func request(_ method: AgentMethod, agentID: String, timeout: Duration) async throws -> NATSMessage {
        let requestID = UUID().uuidString.lowercased()
        let replyTo = AgentSubjects.reply(directorUUID: directorUUID, agentID: agentID, requestID: requestID)
        let payload = ByteBuffer(bytes: try JSONCoding.encoder.encode(AgentRequest(method: method, replyTo: replyTo)))
        let subject = AgentSubjects.inbox(agentID: agentID)
        return try await withCheckedThrowingContinuation { continuation in
            waiting.withLock { $0[requestID] = continuation }
            let nanoseconds = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            timers.scheduleTask(in: .nanoseconds(nanoseconds)) {
                let waiter = self.waiting.withLock { $0.removeValue(forKey: requestID) }
                waiter?.resume(throwing: NATSClientError(.timeout, "no reply within \(timeout)"))
            }
            do {
                try nats.publish(payload, to: subject, replyTo: replyTo)
            } catch {
                let waiter = waiting.withLock { $0.removeValue(forKey: requestID) }
                waiter?.resume(throwing: error)
            }
        }
    }
}
