import Foundation
import NIOCore

/// One operation sent to the server, encoded straight into the outbound buffer.
enum ClientOperation: Sendable {
    case connect(ConnectOptions)
    case publish(subject: String, replyTo: String?, payload: ByteBuffer)
    case subscribe(subject: String, queue: String?, sid: UInt64)
    case unsubscribe(sid: UInt64, max: Int?)
    case ping
    case pong

    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .connect(let options):
            buffer.writeStaticString("CONNECT ")
            let json = (try? JSONEncoder().encode(options)) ?? Data("{}".utf8)
            buffer.writeBytes(json)
            buffer.writeStaticString("\r\n")
        case .publish(let subject, let replyTo, let payload):
            buffer.writeControlLine("PUB", [subject, replyTo, String(payload.readableBytes)])
            buffer.writeImmutableBuffer(payload)
            buffer.writeStaticString("\r\n")
        case .subscribe(let subject, let queue, let sid):
            buffer.writeControlLine("SUB", [subject, queue, String(sid)])
        case .unsubscribe(let sid, let max):
            buffer.writeControlLine("UNSUB", [String(sid), max.map(String.init)])
        case .ping:
            buffer.writeStaticString("PING\r\n")
        case .pong:
            buffer.writeStaticString("PONG\r\n")
        }
    }
}

extension ByteBuffer {
    /// `VERB field field…\r\n`, skipping absent optional fields.
    mutating func writeControlLine(_ verb: StaticString, _ fields: [String?]) {
        writeStaticString(verb)
        for case let field? in fields {
            writeStaticString(" ")
            writeString(field)
        }
        writeStaticString("\r\n")
    }
}

/// Subject syntax: dot-separated tokens, no whitespace, no empty token.
enum SubjectValidation {
    static func isValid(_ subject: String, allowWildcards: Bool) -> Bool {
        guard !subject.isEmpty else { return false }
        var tokenLength = 0
        var previous: UInt8 = 0
        for byte in subject.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                return false
            case UInt8(ascii: "."):
                if tokenLength == 0 { return false }
                tokenLength = 0
            case UInt8(ascii: "*"), UInt8(ascii: ">"):
                if !allowWildcards { return false }
                tokenLength += 1
            default:
                tokenLength += 1
            }
            previous = byte
        }
        return tokenLength > 0 && previous != UInt8(ascii: ".")
    }
}
