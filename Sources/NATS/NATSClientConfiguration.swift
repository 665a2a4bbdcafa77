/// How a NATS client reaches its server.
public struct NATSClientConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// How long to wait before reconnecting after the connection drops.
    public var reconnectDelayMilliseconds: Int

    public init(host: String = "127.0.0.1", port: Int = 4222, reconnectDelayMilliseconds: Int = 500) {
        self.host = host
        self.port = port
        self.reconnectDelayMilliseconds = reconnectDelayMilliseconds
    }
}
