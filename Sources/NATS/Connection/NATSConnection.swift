import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One live connection to one server, after the `CONNECT`/`PONG` handshake.
final class NATSConnection: Sendable {
    let channel: any Channel
    let endpoint: NATSEndpoint
    let serverInfo: ServerInfo
    let writer: OutboundWriter
    private let handler: NIOLoopBound<NATSChannelHandler>

    private init(
        channel: any Channel, endpoint: NATSEndpoint, serverInfo: ServerInfo, writer: OutboundWriter,
        handler: NIOLoopBound<NATSChannelHandler>
    ) {
        self.channel = channel
        self.endpoint = endpoint
        self.serverInfo = serverInfo
        self.writer = writer
        self.handler = handler
    }

    /// Connects, upgrades to TLS when asked, and completes the handshake within the connect timeout.
    static func connect(
        to endpoint: NATSEndpoint, configuration: NATSClientConfiguration, sslContext: NIOSSLContext?,
        delegate: any ConnectionDelegate, group: any EventLoopGroup, logger: Logger
    ) async throws -> NATSConnection {
        let eventLoop = group.any()
        let ready = eventLoop.makePromise(of: ServerInfo.self)
        let options = ConnectOptions(tlsRequired: endpoint.tls, name: configuration.name)
        let timeout = TimeAmount.nanoseconds(Int64(configuration.connectTimeout.components.seconds) * 1_000_000_000
            + configuration.connectTimeout.components.attoseconds / 1_000_000_000)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = NATSChannelHandler(
                        tlsRequired: endpoint.tls, maxOutstandingPings: configuration.maxOutstandingPings,
                        connectOptions: options, sslContext: sslContext,
                        serverHostname: endpoint.hostIsIPAddress ? nil : endpoint.host, delegate: delegate,
                        ready: ready, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ServerOperationDecoder()))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            ready.fail(error)
            throw NATSClientError(.connectionFailed, "cannot connect to \(endpoint): \(error)")
        }
        let handshakeTimeout = eventLoop.scheduleTask(in: timeout) {
            ready.fail(NATSClientError(.timeout, "no handshake from \(endpoint) within \(configuration.connectTimeout)"))
            channel.close(promise: nil)
        }
        let info: ServerInfo
        do {
            info = try await ready.futureResult.get()
            handshakeTimeout.cancel()
        } catch {
            handshakeTimeout.cancel()
            channel.close(promise: nil)
            if let error = error as? NATSClientError { throw error }
            throw NATSClientError(.connectionFailed, "handshake with \(endpoint) failed: \(error)")
        }
        let pingEvery = TimeAmount.nanoseconds(Int64(configuration.pingInterval.components.seconds) * 1_000_000_000
            + configuration.pingInterval.components.attoseconds / 1_000_000_000)
        return try await eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: NATSChannelHandler.self)
            let writer = OutboundWriter(channel: channel)
            handler.writer = writer
            let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
            let task = eventLoop.scheduleRepeatedTask(initialDelay: pingEvery, delay: pingEvery) { _ in
                boundHandler.value.keepAliveTick()
            }
            channel.closeFuture.whenComplete { _ in task.cancel() }
            return NATSConnection(
                channel: channel, endpoint: endpoint, serverInfo: info, writer: writer, handler: boundHandler)
        }.get()
    }

    /// Waits for a `PONG` to a `PING` sent after everything queued so far.
    func flush() async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        channel.eventLoop.execute { handler.value.ping(completing: promise) }
        try await promise.futureResult.get()
    }

    /// Registers a `PING`/`PONG` round trip; must be called on the event loop.
    func flushPromise(_ promise: EventLoopPromise<Void>) {
        channel.eventLoop.preconditionInEventLoop()
        handler.value.ping(completing: promise)
    }

    /// Resolves when the connection is gone, with the reason.
    func closed() async -> String {
        try? await channel.closeFuture.get()
        let handler = self.handler
        return (try? await channel.eventLoop.submit { handler.value.closeReason }.get()) ?? nil
            ?? "connection closed"
    }

    func close(reason: String) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.close(reason: reason) }
    }
}
