import DequeModule
import Logging
import NIOCore
import NIOSSL

/// The thin channel handler: feeds server operations to the state machine and carries out its
/// actions. Lives on one event loop; everything here runs there.
final class NATSChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ServerOperation
    typealias OutboundOut = ByteBuffer

    private var stateMachine: ConnectionStateMachine
    private let connectOptions: ConnectOptions
    private let sslContext: NIOSSLContext?
    private let serverHostname: String?
    private weak var delegate: (any ConnectionDelegate)?
    private let logger: Logger
    /// Succeeds with the server's `INFO` once the handshake `PONG` arrives.
    let ready: EventLoopPromise<ServerInfo>
    /// One entry per `PING` sent after the handshake, in order; nil for keep-alive pings.
    private var pongWaiters: Deque<EventLoopPromise<Void>?> = []
    private var context: ChannelHandlerContext?
    var writer: OutboundWriter?
    /// Why the connection is going away, when we decided it.
    private(set) var closeReason: String?

    init(
        tlsRequired: Bool, maxOutstandingPings: Int, connectOptions: ConnectOptions, sslContext: NIOSSLContext?,
        serverHostname: String?, delegate: any ConnectionDelegate, ready: EventLoopPromise<ServerInfo>, logger: Logger
    ) {
        self.stateMachine = ConnectionStateMachine(tlsRequired: tlsRequired, maxOutstandingPings: maxOutstandingPings)
        self.connectOptions = connectOptions
        self.sslContext = sslContext
        self.serverHostname = serverHostname
        self.delegate = delegate
        self.ready = ready
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let operation = unwrapInboundIn(data)
        if case .message(let message) = operation {
            if stateMachine.state == .connected { delegate?.deliver(message) }
            return
        }
        switch stateMachine.received(operation) {
        case .none:
            if case .info(let info) = operation { delegate?.serverInfoChanged(info) }
        case .sendConnect(let tls):
            if tls {
                do {
                    try addTLS(context: context)
                } catch {
                    close(context: context, reason: "TLS setup failed: \(error)")
                    return
                }
            }
            var options = connectOptions
            options.tlsRequired = tls
            var buffer = context.channel.allocator.buffer(capacity: 512)
            ClientOperation.connect(options).encode(into: &buffer)
            ClientOperation.ping.encode(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .sendPong:
            var buffer = context.channel.allocator.buffer(capacity: 8)
            ClientOperation.pong.encode(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .connectionReady:
            if let info = stateMachine.serverInfo {
                ready.succeed(info)
            }
        case .completeFlush:
            if let waiter = pongWaiters.popFirst() { waiter?.succeed() }
        case .reportError(let text):
            delegate?.serverReported(text)
        case .close(let reason):
            close(context: context, reason: reason)
        }
    }

    private func addTLS(context: ChannelHandlerContext) throws {
        guard let sslContext else {
            throw NATSClientError(.connectionFailed, "the server requires TLS but no TLS configuration was given")
        }
        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
        try context.pipeline.syncOperations.addHandler(handler, position: .first)
    }

    /// Sends a `PING` after everything already queued; the promise completes on its `PONG`.
    func ping(completing promise: EventLoopPromise<Void>?) {
        guard stateMachine.state == .connected, let writer else {
            promise?.fail(NATSClientError(.notConnected, "not connected"))
            return
        }
        pongWaiters.append(promise)
        writer.enqueue(.ping)
        writer.flushNow()
    }

    /// Keep-alive timer: ping, or close a connection whose server stopped answering.
    func keepAliveTick() {
        guard let context else { return }
        if stateMachine.keepAliveTick() {
            ping(completing: nil)
        } else if stateMachine.state == .closed && closeReason == nil {
            close(context: context, reason: "stale connection: \(stateMachine.maxOutstandingPings) pings unanswered")
        }
    }

    func close(reason: String) {
        guard let context else { return }
        close(context: context, reason: reason)
    }

    private func close(context: ChannelHandlerContext, reason: String) {
        if closeReason == nil { closeReason = reason }
        stateMachine.closed()
        logger.debug("NATS connection closing", metadata: ["nats.reason": "\(reason)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writer?.flushNow() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stateMachine.closed()
        let error = NATSClientError(.connectionClosed, closeReason ?? "connection closed by the server")
        ready.fail(error)
        while let waiter = pongWaiters.popFirst() { waiter?.fail(error) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context, reason: "\(error)")
    }
}
