/// Errors the NATS client reports. Codes are stable; messages say what happened.
public struct NATSClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed, connectionClosed, notConnected, timeout, payloadTooLarge, invalidSubject
            case permissionViolation, reconnectBufferFull, shutdown, serverError, protocolError
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let connectionFailed = Code(.connectionFailed)
        public static let connectionClosed = Code(.connectionClosed)
        public static let notConnected = Code(.notConnected)
        public static let timeout = Code(.timeout)
        public static let payloadTooLarge = Code(.payloadTooLarge)
        public static let invalidSubject = Code(.invalidSubject)
        public static let permissionViolation = Code(.permissionViolation)
        public static let reconnectBufferFull = Code(.reconnectBufferFull)
        public static let shutdown = Code(.shutdown)
        public static let serverError = Code(.serverError)
        public static let protocolError = Code(.protocolError)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "NATS \(code): \(message)" }
}
