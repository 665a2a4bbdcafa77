import Foundation
import NIOCore

/// One operation received from the server.
enum ServerOperation: Sendable {
    case info(ServerInfo)
    case message(NATSMessage)
    case ping
    case pong
    case ok
    /// `-ERR '<text>'`, without the quotes.
    case error(String)
}

/// Why bytes from the server could not be understood.
public struct NATSProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}

/// Splits the server's byte stream into operations. Returns nil until a whole operation — control
/// line and, for messages, the full payload plus CRLF — is buffered.
struct ServerOperationDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ServerOperation

    /// Control lines longer than this are refused (nats-server's own limit is 4 KiB).
    static let maxControlLineLength = 4096
    /// Payloads above the server's `max_payload` are protocol errors; updated from `INFO`.
    var maxPayload: Int = 64 * 1024 * 1024

    mutating func decode(buffer: inout ByteBuffer) throws -> ServerOperation? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > Self.maxControlLineLength {
                throw NATSProtocolError("control line longer than \(Self.maxControlLineLength) bytes")
            }
            return nil
        }
        var lineEnd = newline
        if lineEnd > view.startIndex, view[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let line = view[view.startIndex..<lineEnd]
        let lineLength = newline - view.startIndex + 1

        let verb = Self.verb(of: line)
        switch verb {
        case "MSG", "HMSG":
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
                .map { String(decoding: $0, as: UTF8.self) }
            return try decodeMessage(fields, headers: verb == "HMSG", lineLength: lineLength, buffer: &buffer)
        case "PING":
            buffer.moveReaderIndex(forwardBy: lineLength)
            return .ping
        case "PONG":
            buffer.moveReaderIndex(forwardBy: lineLength)
            return .pong
        case "+OK":
            buffer.moveReaderIndex(forwardBy: lineLength)
            return .ok
        case "-ERR":
            buffer.moveReaderIndex(forwardBy: lineLength)
            var text = String(decoding: line.dropFirst(4), as: UTF8.self)
            text = text.trimmingCharacters(in: [" ", "'"])
            return .error(text)
        case "INFO":
            buffer.moveReaderIndex(forwardBy: lineLength)
            let json = line.dropFirst(4)
            do {
                return .info(try JSONDecoder().decode(ServerInfo.self, from: Data(json)))
            } catch {
                throw NATSProtocolError("malformed INFO: \(error)")
            }
        default:
            throw NATSProtocolError("unknown operation '\(verb.prefix(20))'")
        }
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ServerOperation? {
        try decode(buffer: &buffer)
    }

    private static func verb(of line: ByteBufferView) -> String {
        let end = line.firstIndex(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) ?? line.endIndex
        return String(decoding: line[line.startIndex..<end], as: UTF8.self).uppercased()
    }

    /// `MSG <subject> <sid> [reply-to] <#bytes>` or `HMSG <subject> <sid> [reply-to] <#header bytes> <#total bytes>`.
    private func decodeMessage(_ fields: [String], headers: Bool, lineLength: Int, buffer: inout ByteBuffer) throws
        -> ServerOperation?
    {
        let sizeCount = headers ? 2 : 1
        guard fields.count == 3 + sizeCount || fields.count == 4 + sizeCount else {
            throw NATSProtocolError("malformed \(fields.first ?? "MSG") line")
        }
        guard let sid = UInt64(fields[2]), let total = Int(fields[fields.count - 1]), total >= 0 else {
            throw NATSProtocolError("malformed \(fields[0]) line")
        }
        var headerLength = 0
        if headers {
            guard let length = Int(fields[fields.count - 2]), length >= 0, length <= total else {
                throw NATSProtocolError("malformed HMSG header size")
            }
            headerLength = length
        }
        guard total <= maxPayload else {
            throw NATSProtocolError("message of \(total) bytes exceeds max_payload \(maxPayload)")
        }
        // Wait for payload and its CRLF.
        guard buffer.readableBytes >= lineLength + total + 2 else { return nil }
        buffer.moveReaderIndex(forwardBy: lineLength)
        let headerBlock = headers ? buffer.readSlice(length: headerLength) : nil
        let payload = buffer.readSlice(length: total - headerLength)!
        buffer.moveReaderIndex(forwardBy: 2)
        let replyTo = fields.count == 4 + sizeCount ? fields[3] : nil
        return .message(NATSMessage(subject: fields[1], replyTo: replyTo, payload: payload, headers: headerBlock, sid: sid))
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}
