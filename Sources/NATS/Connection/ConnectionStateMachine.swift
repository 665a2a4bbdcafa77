/// The life of one connection to one server, as a pure state machine: the channel handler feeds it
/// events and carries out the actions it returns. Tested without any I/O.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// TCP is up; the server speaks first with `INFO`.
        case awaitingInfo
        /// `CONNECT` and `PING` are sent; the `PONG` proves the server accepted us.
        case awaitingConnectPong
        case connected
        case closed
    }

    enum Action: Equatable {
        case none
        /// Upgrade to TLS (when `tls` is true) and send `CONNECT` then `PING`.
        case sendConnect(tls: Bool)
        case sendPong
        /// The handshake finished; the connection can carry traffic.
        case connectionReady
        /// A `PONG` answered a `flush()` or keep-alive `PING`.
        case completeFlush
        /// A non-fatal `-ERR` (a permissions violation): report it, keep going.
        case reportError(String)
        /// Give up on this connection with this reason.
        case close(String)
    }

    private(set) var state: State = .awaitingInfo
    private(set) var serverInfo: ServerInfo?
    /// Keep-alive pings sent without a `PONG` back yet.
    private(set) var outstandingPings = 0
    let tlsRequired: Bool
    let maxOutstandingPings: Int

    init(tlsRequired: Bool, maxOutstandingPings: Int = 2) {
        self.tlsRequired = tlsRequired
        self.maxOutstandingPings = maxOutstandingPings
    }

    mutating func received(_ operation: ServerOperation) -> Action {
        switch (state, operation) {
        case (.closed, _):
            return .none
        case (.awaitingInfo, .info(let info)):
            serverInfo = info
            let serverWantsTLS = info.tlsRequired ?? false
            if tlsRequired && !serverWantsTLS {
                state = .closed
                return .close("the URL asks for TLS but server \(info.serverID) does not offer it")
            }
            state = .awaitingConnectPong
            return .sendConnect(tls: tlsRequired || serverWantsTLS)
        case (.awaitingInfo, _):
            state = .closed
            return .close("expected INFO from the server first")
        case (_, .info(let info)):
            serverInfo = info  // cluster updates (connect_urls) after the handshake
            return .none
        case (_, .ping):
            return .sendPong
        case (.awaitingConnectPong, .pong):
            state = .connected
            return .connectionReady
        case (.connected, .pong):
            outstandingPings = 0
            return .completeFlush
        case (_, .ok):
            return .none
        case (_, .error(let text)):
            if Self.isPermissionViolation(text) { return .reportError(text) }
            state = .closed
            return .close(text)
        case (.awaitingConnectPong, .message):
            return .none
        case (.connected, .message):
            return .none  // delivered by the handler directly, on the hot path
        }
    }

    /// A keep-alive timer fired: send another `PING`, or declare the server dead.
    mutating func keepAliveTick() -> Bool {
        guard state == .connected else { return false }
        if outstandingPings >= maxOutstandingPings {
            state = .closed
            return false
        }
        outstandingPings += 1
        return true
    }

    mutating func closed() {
        state = .closed
    }

    static func isPermissionViolation(_ text: String) -> Bool {
        text.lowercased().hasPrefix("permissions violation")
    }
}
