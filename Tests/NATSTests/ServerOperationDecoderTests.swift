import NIOCore
import NIOTestUtils
import TestSupport
import Testing

@testable import NATS

@Suite struct ServerOperationDecoderTests {
    func decodeAll(_ text: String) throws -> [ServerOperation] {
        var decoder = ServerOperationDecoder()
        var buffer = ByteBuffer(string: text)
        var operations: [ServerOperation] = []
        while let operation = try decoder.decode(buffer: &buffer) { operations.append(operation) }
        return operations
    }

    @Test func decodesEveryOperation() throws {
        let text = """
            INFO {"server_id":"S1","max_payload":1048576,"tls_required":true,"connect_urls":["10.0.0.2:4222"]}\r
            PING\r
            PONG\r
            +OK\r
            -ERR 'Permissions Violation for Subscription to "agent.x"'\r
            MSG a.b 7 5\r
            hello\r
            MSG a.b 7 _INBOX.x.1 0\r
            \r
            HMSG h 9 reply 12 17\r
            NATS/1.0\r
            \r
            body!\r

            """
        let ops = try decodeAll(text)
        #expect(ops.count == 8)
        guard case .info(let info) = ops[0] else { Issue.record("expected INFO"); return }
        #expect(info.serverID == "S1" && info.maxPayload == 1_048_576 && info.tlsRequired == true)
        #expect(info.connectURLs == ["10.0.0.2:4222"])
        guard case .ping = ops[1], case .pong = ops[2], case .ok = ops[3] else { Issue.record("control ops"); return }
        guard case .error(let text) = ops[4] else { Issue.record("expected -ERR"); return }
        #expect(text == "Permissions Violation for Subscription to \"agent.x\"")
        guard case .message(let m1) = ops[5], case .message(let m2) = ops[6], case .message(let m3) = ops[7] else {
            Issue.record("expected messages")
            return
        }
        #expect(m1.subject == "a.b" && m1.sid == 7 && m1.replyTo == nil && m1.string == "hello")
        #expect(m2.replyTo == "_INBOX.x.1" && m2.payload.readableBytes == 0)
        #expect(m3.replyTo == "reply" && m3.string == "body!" && m3.headers.map { String(buffer: $0) } == "NATS/1.0\r\n\r\n")
    }

    @Test func waitsForTheWholePayload() throws {
        var decoder = ServerOperationDecoder()
        var buffer = ByteBuffer(string: "MSG s 1 10\r\n01234")
        let result1 = try decoder.decode(buffer: &buffer)
        #expect(result1 == nil)
        buffer.writeString("56789\r")
        let result2 = try decoder.decode(buffer: &buffer)
        #expect(result2 == nil)
        buffer.writeString("\n")
        guard case .message(let message)? = try decoder.decode(buffer: &buffer) else {
            Issue.record("expected a message")
            return
        }
        #expect(message.string == "0123456789")
        #expect(buffer.readableBytes == 0)
    }

    @Test func byteByByteAndSplitFramesDecodeTheSame() throws {
        let frames = "PING\r\nMSG x 1 3\r\nabc\r\nPONG\r\n"
        let expected = [ByteBuffer(string: frames)]
        // Feeds the bytes in every split the verifier tries, including one byte at a time.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(expected[0], [OperationSummary.ping, .message("x", "abc"), .pong])],
            decoderFactory: { SummaryDecoder() })
    }

    @Test(arguments: ["MSG x 1\r\n", "MSG x one 3\r\n", "BOGUS\r\n", "HMSG x 1 9 3\r\n"])
    func rejectsMalformedLines(_ line: String) {
        #expect(throws: NATSProtocolError.self) { _ = try decodeAll(line) }
    }

    @Test func refusesPayloadsAboveTheLimit() {
        var decoder = ServerOperationDecoder()
        decoder.maxPayload = 4
        var buffer = ByteBuffer(string: "MSG x 1 5\r\nhello\r\n")
        #expect(throws: NATSProtocolError.self) { _ = try decoder.decode(buffer: &buffer) }
    }

    @Test func encodesClientOperations() {
        var buffer = ByteBuffer()
        ClientOperation.publish(subject: "a", replyTo: "r", payload: ByteBuffer(string: "hi")).encode(into: &buffer)
        ClientOperation.subscribe(subject: "s.*", queue: "q", sid: 4).encode(into: &buffer)
        ClientOperation.unsubscribe(sid: 4, max: nil).encode(into: &buffer)
        ClientOperation.ping.encode(into: &buffer)
        #expect(String(buffer: buffer) == "PUB a r 2\r\nhi\r\nSUB s.* q 4\r\nUNSUB 4\r\nPING\r\n")
    }

    @Test(arguments: [("a.b", true), ("a..b", false), (".a", false), ("a.", false), ("a b", false), ("", false), ("a.*", false)])
    func publishSubjects(subject: String, valid: Bool) {
        #expect(SubjectValidation.isValid(subject, allowWildcards: false) == valid)
    }
}

/// Equatable summaries of operations, for the decoder verifier.
enum OperationSummary: Equatable {
    case ping, pong
    case message(String, String)
}

struct SummaryDecoder: ByteToMessageDecoder {
    typealias InboundOut = OperationSummary
    var inner = ServerOperationDecoder()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let operation = try inner.decode(buffer: &buffer) else { return .needMoreData }
        switch operation {
        case .ping: context.fireChannelRead(wrapInboundOut(.ping))
        case .pong: context.fireChannelRead(wrapInboundOut(.pong))
        case .message(let m): context.fireChannelRead(wrapInboundOut(.message(m.subject, m.string)))
        default: break
        }
        return .continue
    }
}

@Suite struct ConnectionStateMachineTests {
    let info = ServerInfo(serverID: "S", maxPayload: 1024)

    @Test func handshakeThenTraffic() {
        var machine = ConnectionStateMachine(tlsRequired: false)
        let result3 = machine.received(.info(info))
        #expect(result3 == .sendConnect(tls: false))
        #expect(machine.state == .awaitingConnectPong)
        let result4 = machine.received(.ping)
        #expect(result4 == .sendPong)
        let result5 = machine.received(.pong)
        #expect(result5 == .connectionReady)
        let result6 = machine.received(.pong)
        #expect(result6 == .completeFlush)
    }

    @Test func serverAskingForTLSUpgrades() {
        var serverInfo = info
        serverInfo.tlsRequired = true
        var machine = ConnectionStateMachine(tlsRequired: false)
        let result7 = machine.received(.info(serverInfo))
        #expect(result7 == .sendConnect(tls: true))
    }

    @Test func tlsURLAgainstAPlainServerCloses() {
        var machine = ConnectionStateMachine(tlsRequired: true)
        guard case .close = machine.received(.info(info)) else {
            Issue.record("expected close")
            return
        }
        #expect(machine.state == .closed)
    }

    @Test func permissionErrorsAreNotFatalOthersAre() {
        var machine = ConnectionStateMachine(tlsRequired: false)
        _ = machine.received(.info(info))
        _ = machine.received(.pong)
        let result8 = machine.received(.error("Permissions Violation for Publish to \"x\""))
        #expect(result8 == .reportError("Permissions Violation for Publish to \"x\""))
        #expect(machine.state == .connected)
        let result9 = machine.received(.error("Stale Connection"))
        #expect(result9 == .close("Stale Connection"))
    }

    @Test func keepAliveDeclaresAStaleServer() {
        var machine = ConnectionStateMachine(tlsRequired: false, maxOutstandingPings: 2)
        _ = machine.received(.info(info))
        _ = machine.received(.pong)
        let result10 = machine.keepAliveTick()
        #expect(result10)
        let result11 = machine.keepAliveTick()
        #expect(result11)
        let result12 = machine.keepAliveTick()
        #expect(!result12)
        #expect(machine.state == .closed)
    }

    @Test func aPongResetsTheCount() {
        var machine = ConnectionStateMachine(tlsRequired: false, maxOutstandingPings: 1)
        _ = machine.received(.info(info))
        _ = machine.received(.pong)
        let result13 = machine.keepAliveTick()
        #expect(result13)
        _ = machine.received(.pong)
        let result14 = machine.keepAliveTick()
        #expect(result14)
    }
}
