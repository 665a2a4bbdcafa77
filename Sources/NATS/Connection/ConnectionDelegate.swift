/// Where a connection sends what it receives. Called on the connection's event loop.
protocol ConnectionDelegate: AnyObject, Sendable {
    func deliver(_ message: NATSMessage)
    /// A non-fatal `-ERR`, such as a permissions violation.
    func serverReported(_ error: String)
    func serverInfoChanged(_ info: ServerInfo)
}
