import Blobstore
import Foundation
import Logging
import NATS
import ServiceLifecycle
import Synchronization

/// The director's connection to its agents: one NATS client with the director's certificate and
/// one reply subscription, started once the message bus listens, for the director's whole life.
public final class AgentHub: Service, Sendable {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    let directorUUID: String
    let serverURL: @Sendable () async throws -> String
    let tls: NATSClientConfiguration.TLS
    let logger: Logger
    private let router = Mutex<AgentReplyRouter?>(nil)
    private let connection = Mutex<NATSClient?>(nil)
    /// Signs the blobs of every spec sent to agents, when they hold no blobstore credentials.
    let blobURLs: SignedBlobURLs?

    public init(
        directorUUID: String, tls: NATSClientConfiguration.TLS, logger: Logger, blobURLs: SignedBlobURLs? = nil,
        serverURL: @escaping @Sendable () async throws -> String
    ) {
        self.directorUUID = directorUUID
        self.tls = tls
        self.logger = logger
        self.blobURLs = blobURLs
        self.serverURL = serverURL
    }

    public func run() async throws {
        // A shutdown may come before the bus is up; nothing here may outlive it.
        try? await cancelWhenGracefulShutdown {
            guard let url = URL(string: try await self.serverURL()) else {
                throw Unavailable(description: "the NATS URL is not a URL")
            }
            var configuration = NATSClientConfiguration(
                servers: [url], name: "bosun-director", pingInterval: .seconds(10), reconnectDelay: .milliseconds(200),
                maxReconnectDelay: .seconds(2))
            configuration.tls = self.tls
            let client = try NATSClient(configuration: configuration, logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                defer { group.cancelAll() }
                try await client.waitUntilConnected()
                let router = try await AgentReplyRouter(nats: client, directorUUID: self.directorUUID)
                self.router.withLock { $0 = router }
                self.connection.withLock { $0 = client }
                defer {
                    self.connection.withLock { $0 = nil }
                    self.router.withLock { $0 = nil }
                    router.stop()
                }
                group.addTask { await router.route() }
                // Until shutdown cancels this task.
                while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
            }
        }
    }

    /// Messages on `subject` (what agents publish: heartbeats, alerts); waits for the bus
    /// connection like `client(agentID:)`.
    public func subscribe(to subject: String) async throws -> NATSSubscription {
        for _ in 0..<300 {
            if let client = connection.withLock({ $0 }) { return try await client.subscribe(to: subject) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Unavailable(description: "the director is not connected to NATS")
    }

    /// A client for one agent; waits (up to 30 s) for the bus connection at director start-up.
    public func client(
        agentID: String, instanceName: String, requestTimeout: Duration = .seconds(45), ledger: ExternalTimeLedger? = nil
    ) async throws -> AgentClient {
        for _ in 0..<300 {
            if let router = router.withLock({ $0 }) {
                var client = AgentClient(
                    router: router, agentID: agentID, instanceName: instanceName, requestTimeout: requestTimeout,
                    taskPollInterval: .milliseconds(100))
                client.ledger = ledger
                client.blobURLs = blobURLs
                return client
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Unavailable(description: "the director is not connected to NATS")
    }
}
