import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A NATS client on SwiftNIO: publish, subscribe (queue groups too), request/reply over one shared
/// inbox, flush and drain; keep-alive pings, reconnect with back-off to any known server, and
/// re-subscription after reconnecting. Run it as a `Service`; operations made before it connects,
/// or while it reconnects, are buffered (bounded).
public final class NATSClient: Sendable, Service {
    let configuration: NATSClientConfiguration
    let logger: Logger
    let group: any EventLoopGroup
    let sslContext: NIOSSLContext?
    let state: Mutex<State>
    /// Replies to `request` arrive on `<inboxPrefix>.<token>`.
    let inboxPrefix: String

    struct SubscriptionRecord {
        var subject: String
        var queue: String?
        var continuation: AsyncThrowingStream<NATSMessage, any Error>.Continuation?
        var counters: SubscriptionCounters?
    }

    struct State {
        var connection: NATSConnection?
        var serverInfo: ServerInfo?
        var endpoints: [NATSEndpoint]
        var subscriptions: [UInt64: SubscriptionRecord] = [:]
        var nextSID: UInt64 = 1
        var inboxSID: UInt64?
        var requests: [String: CheckedContinuation<NATSMessage, any Error>] = [:]
        var nextRequestToken: UInt64 = 1
        var reconnectBuffer: ByteBuffer
        var permissionErrors: [String] = []
        var connectionWaiters: [CheckedContinuation<Void, any Error>] = []
        var shuttingDown = false
        var finished = false
        var connects = 0
    }

    public init(
        configuration: NATSClientConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(NATSClientError) {
        self.configuration = configuration
        self.logger = logger
        self.group = eventLoopGroup
        let endpoints = configuration.servers.compactMap(NATSEndpoint.init)
        guard !endpoints.isEmpty, endpoints.count == configuration.servers.count else {
            throw NATSClientError(.connectionFailed, "expected nats:// or tls:// server URLs, got \(configuration.servers)")
        }
        if let tls = configuration.tls {
            do {
                var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                tlsConfiguration.trustRoots = .file(tls.caFile)
                tlsConfiguration.minimumTLSVersion = .tlsv12
                if let certificate = tls.certificateFile, let key = tls.privateKeyFile {
                    tlsConfiguration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                    tlsConfiguration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
                sslContext = try NIOSSLContext(configuration: tlsConfiguration)
            } catch {
                throw NATSClientError(.connectionFailed, "cannot load TLS material: \(error)")
            }
        } else {
            sslContext = nil
        }
        let random = (0..<22).map { _ in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! }
        inboxPrefix = "_INBOX." + String(random)
        state = Mutex(State(endpoints: endpoints, reconnectBuffer: ByteBufferAllocator().buffer(capacity: 0)))
    }

    public var isConnected: Bool { state.withLock { $0.connection != nil } }

    /// How many times a connection was established (1 + reconnects).
    public var connectionCount: Int { state.withLock { $0.connects } }

    /// The server's latest `INFO`, once connected.
    public var serverInfo: ServerInfo? { state.withLock { $0.serverInfo } }

    /// Connects and stays connected until graceful shutdown (or cancellation); then drains and closes.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await connectionLoop()
            } onGracefulShutdown: {
                self.beginDrain()
            }
        } onCancel: {
            self.beginDrain()
        }
        finish(NATSClientError(.shutdown, "the client shut down"))
    }

    private func connectionLoop() async {
        var failures = 0
        var next = 0
        while !state.withLock({ $0.shuttingDown }) {
            let endpoints = state.withLock { $0.endpoints }
            let endpoint = endpoints[next % endpoints.count]
            next += 1
            do {
                let connection = try await NATSConnection.connect(
                    to: endpoint, configuration: configuration, sslContext: sslContext, delegate: self, group: group,
                    logger: logger)
                failures = 0
                install(connection)
                logger.info("NATS connected", metadata: ["nats.server": "\(endpoint)"])
                // A shutdown that came while connecting found no connection to drain.
                if state.withLock({ $0.shuttingDown }) { beginDrain() }
                let reason = await connection.closed()
                uninstall(connection)
                if state.withLock({ $0.shuttingDown }) { break }
                logger.info("NATS disconnected", metadata: ["nats.server": "\(endpoint)", "nats.reason": "\(reason)"])
                continue  // try the next server at once
            } catch {
                failures += 1
                logger.debug("NATS connect failed", metadata: ["nats.server": "\(endpoint)", "nats.error": "\(error)"])
            }
            await pause(failures: failures)
        }
    }

    /// Back-off: the base delay times the attempt, capped, plus up to half the base as jitter.
    private func pause(failures: Int) async {
        let base = configuration.reconnectDelay
        var delay = base * failures
        if delay > configuration.maxReconnectDelay { delay = configuration.maxReconnectDelay }
        delay += base * Double.random(in: 0..<0.5)
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline && !state.withLock({ $0.shuttingDown }) {
            try? await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
        }
    }

    /// Makes a new connection current: re-sends every subscription, then what was published while
    /// disconnected, in that order, under the lock so nothing new slips in between.
    private func install(_ connection: NATSConnection) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.connection = connection
            state.connects += 1
            state.serverInfo = connection.serverInfo
            learnEndpoints(from: connection.serverInfo, into: &state)
            for sid in state.subscriptions.keys.sorted() {
                let record = state.subscriptions[sid]!
                connection.writer.enqueue(.subscribe(subject: record.subject, queue: record.queue, sid: sid))
            }
            connection.writer.enqueue(encoded: state.reconnectBuffer)
            state.reconnectBuffer.clear()
            let waiters = state.connectionWaiters
            state.connectionWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func uninstall(_ connection: NATSConnection) {
        state.withLock { state in
            if state.connection === connection { state.connection = nil }
        }
    }

    func learnEndpoints(from info: ServerInfo, into state: inout State) {
        let tls = state.endpoints.first?.tls ?? false
        for url in info.connectURLs ?? [] {
            if let endpoint = NATSEndpoint(connectURL: url, tls: tls), !state.endpoints.contains(endpoint) {
                state.endpoints.append(endpoint)
            }
        }
    }

    /// Starts a drain: unsubscribe everything, wait for the server to confirm, close.
    func beginDrain() {
        let connection = state.withLock { state -> NATSConnection? in
            state.shuttingDown = true
            guard let connection = state.connection else { return nil }
            for sid in state.subscriptions.keys { connection.writer.enqueue(.unsubscribe(sid: sid, max: nil)) }
            return connection
        }
        guard let connection else { return }
        let promise = connection.channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in connection.close(reason: "drained") }
        connection.channel.eventLoop.execute {
            connection.flushPromise(promise)
        }
    }

    /// Ends every subscription and fails every waiting request.
    private func finish(_ error: NATSClientError) {
        let (subscriptions, requests, waiters) = state.withLock { state in
            state.finished = true
            state.shuttingDown = true
            defer {
                state.subscriptions = [:]
                state.requests = [:]
                state.connectionWaiters = []
            }
            return (Array(state.subscriptions.values), Array(state.requests.values), state.connectionWaiters)
        }
        for record in subscriptions { record.continuation?.finish() }
        for request in requests { request.resume(throwing: error) }
        for waiter in waiters { waiter.resume(throwing: error) }
    }
}
