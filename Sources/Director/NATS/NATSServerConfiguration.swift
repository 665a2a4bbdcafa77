/// The `nats-server` configuration the director runs: TLS with mandatory client certificates from
/// the director's CA, and every client mapped by its certificate to a user that may only use its
/// own subjects (reference §3.1) — an agent cannot read another agent's requests or answer for it.
struct NATSServerConfiguration: Sendable, Equatable {
    /// Where clients find the server; the director, and agents over the VM bridge.
    var host: String
    /// 0 lets the server pick a free port (tests).
    var port: Int
    var certificatePath: String
    var keyPath: String
    var caPath: String
    /// Agents allowed to connect, by agent id.
    var agentIDs: Set<String>
    var maxPayloadBytes = 1 << 20
    /// Where the server writes its pid, so a restarted director can find a server it left behind.
    var pidFile: String?

    /// The identity in the director's client certificate (a DNS name, which nats-server maps first).
    static let directorIdentity = "default.director.bosun-internal"

    static func agentIdentity(_ agentID: String) -> String { "\(agentID).agent.bosun-internal" }

    func rendered() -> String {
        var lines = [
            "# Written by bosun-director; rewritten and reloaded when agents come and go.",
            "host: \(quoted(host))",
            "port: \(port == 0 ? -1 : port)",
            "server_name: \"bosun-director-nats\"",
            "max_payload: \(maxPayloadBytes)",
            pidFile.map { "pid_file: \(quoted($0))" } ?? "",
            "tls {",
            "  cert_file: \(quoted(certificatePath))",
            "  key_file: \(quoted(keyPath))",
            "  ca_file: \(quoted(caPath))",
            "  verify_and_map: true",
            "  timeout: 5",
            "}",
            "authorization {",
            "  users = [",
            user(Self.directorIdentity, publish: ["agent.*", "hm.director.alert"], subscribe: ["director.>", "hm.>"]),
        ]
        for id in agentIDs.sorted() {
            lines.append(user(
                Self.agentIdentity(id),
                publish: ["hm.agent.heartbeat.\(id)", "hm.agent.alert.\(id)", "hm.agent.shutdown.\(id)", "director.*.\(id).*"],
                subscribe: ["agent.\(id)"]))
        }
        lines += ["  ]", "}", ""]
        return lines.joined(separator: "\n")
    }

    private func user(_ name: String, publish: [String], subscribe: [String]) -> String {
        "    { user: \(quoted(name)), permissions: { publish: [\(publish.map(quoted).joined(separator: ", "))], subscribe: [\(subscribe.map(quoted).joined(separator: ", "))] } }"
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
