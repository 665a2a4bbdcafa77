import Foundation

/// How a NATS client connects, and how it behaves when the server goes away.
public struct NATSClientConfiguration: Sendable {
    /// `nats://host:port` or `tls://host:port`; tried in order, then round-robin on reconnect.
    public var servers: [URL]
    /// Mutual TLS material (PEM files). Required for `tls://` URLs and servers that demand TLS.
    public var tls: TLS?
    /// Sent in `CONNECT`, shown by the server in its logs.
    public var name: String
    public var connectTimeout: Duration
    /// Keep-alive: a `PING` this often; the server is dead after `maxOutstandingPings` unanswered.
    public var pingInterval: Duration
    public var maxOutstandingPings: Int
    /// Reconnect delay grows from `reconnectDelay` by `reconnectDelay` per attempt up to `maxReconnectDelay`, plus jitter.
    public var reconnectDelay: Duration
    public var maxReconnectDelay: Duration
    /// Publishes made while disconnected are kept up to this many bytes, then refused.
    public var reconnectBufferSize: Int
    /// Messages a subscription holds for a slow consumer before it drops the oldest.
    public var subscriptionBufferSize: Int

    public struct TLS: Sendable {
        public var caFile: String
        public var certificateFile: String?
        public var privateKeyFile: String?

        public init(caFile: String, certificateFile: String? = nil, privateKeyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }

    public init(
        servers: [URL], tls: TLS? = nil, name: String = "bosun", connectTimeout: Duration = .seconds(5),
        pingInterval: Duration = .seconds(30), maxOutstandingPings: Int = 2, reconnectDelay: Duration = .milliseconds(500),
        maxReconnectDelay: Duration = .seconds(10), reconnectBufferSize: Int = 8 * 1024 * 1024,
        subscriptionBufferSize: Int = 65536
    ) {
        self.servers = servers
        self.tls = tls
        self.name = name
        self.connectTimeout = connectTimeout
        self.pingInterval = pingInterval
        self.maxOutstandingPings = maxOutstandingPings
        self.reconnectDelay = reconnectDelay
        self.maxReconnectDelay = maxReconnectDelay
        self.reconnectBufferSize = reconnectBufferSize
        self.subscriptionBufferSize = subscriptionBufferSize
    }
}

/// One server address taken from a URL.
struct NATSEndpoint: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int
    var tls: Bool

    init?(_ url: URL) {
        guard let host = url.host, !host.isEmpty else { return nil }
        switch url.scheme?.lowercased() {
        case "nats", nil: tls = false
        case "tls": tls = true
        default: return nil
        }
        self.host = host
        self.port = url.port ?? 4222
    }

    init(host: String, port: Int, tls: Bool) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// `host:port` entries from `INFO`'s `connect_urls`.
    init?(connectURL: String, tls: Bool) {
        guard let colon = connectURL.lastIndex(of: ":"), let port = Int(connectURL[connectURL.index(after: colon)...])
        else { return nil }
        self.init(host: String(connectURL[..<colon]), port: port, tls: tls)
    }

    var description: String { "\(tls ? "tls" : "nats")://\(host):\(port)" }

    /// True for IPv4/IPv6 literals, which must not be sent as TLS SNI.
    var hostIsIPAddress: Bool {
        host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":")
    }
}
