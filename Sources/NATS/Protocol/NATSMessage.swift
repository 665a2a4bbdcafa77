import NIOCore

/// A message delivered to a subscription (`MSG` / `HMSG`).
public struct NATSMessage: Sendable {
    public var subject: String
    /// Where a reply should go, when the sender expects one.
    public var replyTo: String?
    public var payload: ByteBuffer
    /// Header block as sent (`NATS/1.0` line and headers), when the message had headers.
    public var headers: ByteBuffer?
    /// The subscription id it was delivered for.
    var sid: UInt64

    public init(subject: String, replyTo: String? = nil, payload: ByteBuffer, headers: ByteBuffer? = nil, sid: UInt64 = 0) {
        self.subject = subject
        self.replyTo = replyTo
        self.payload = payload
        self.headers = headers
        self.sid = sid
    }

    /// The payload as text.
    public var string: String { String(buffer: payload) }
}

/// What the server says about itself in `INFO`.
public struct ServerInfo: Codable, Sendable, Equatable {
    public var serverID: String
    public var serverName: String?
    public var version: String?
    public var maxPayload: Int
    public var tlsRequired: Bool?
    public var tlsVerify: Bool?
    public var authRequired: Bool?
    public var headers: Bool?
    public var connectURLs: [String]?

    public init(serverID: String, maxPayload: Int) {
        self.serverID = serverID
        self.maxPayload = maxPayload
    }

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version
        case maxPayload = "max_payload"
        case tlsRequired = "tls_required"
        case tlsVerify = "tls_verify"
        case authRequired = "auth_required"
        case headers
        case connectURLs = "connect_urls"
    }
}

/// What the client says about itself in `CONNECT`.
struct ConnectOptions: Encodable, Sendable, Equatable {
    var verbose = false
    var pedantic = false
    var tlsRequired: Bool
    var name: String
    var lang = "swift"
    var version = "0.1.0"
    var `protocol` = 1
    var echo = true
    var headers = true
    var noResponders = false

    enum CodingKeys: String, CodingKey {
        case verbose, pedantic, name, lang, version, `protocol`, echo, headers
        case tlsRequired = "tls_required"
        case noResponders = "no_responders"
    }
}
