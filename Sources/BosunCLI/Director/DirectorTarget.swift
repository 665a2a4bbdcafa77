import Foundation

/// Where a command goes and as whom, from `-e`, `--ca-cert`, `--client`, `--client-secret` (and
/// their `BOSUN_*`/`BOSH_*` variables) over what `alias-env`/`login` stored.
struct DirectorTarget {
    /// `https://host:port` — always HTTPS, port 25555 unless given, as the bosh CLI does.
    var url: String
    /// How `Using environment '…'` names it (the `-e` value as given).
    var name: String
    var caPEM: String?
    var client: String?
    var clientSecret: String?

    static func normalizedURL(_ value: String) -> String {
        var rest = value
        for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) { rest = String(rest.dropFirst(scheme.count)) }
        if let slash = rest.firstIndex(of: "/") { rest = String(rest[..<slash]) }
        let hasPort = rest.hasPrefix("[") ? rest.contains("]:") : rest.contains(":")
        return "https://" + rest + (hasPort ? "" : ":25555")
    }

    /// A `--ca-cert` value is a PEM when it contains `BEGIN`, else a file to read.
    static func caText(_ value: String?) throws(CommandFailure) -> String? {
        guard let value, !value.isEmpty else { return nil }
        if value.contains("BEGIN") { return value }
        guard let text = try? String(contentsOfFile: value, encoding: .utf8) else {
            throw CommandFailure(message: "Reading CA certificate '\(value)': no such file")
        }
        return text
    }

    static func resolve(_ global: GlobalOptions, environment: [String: String]) throws(CommandFailure) -> DirectorTarget {
        let flags = global.resolved(environment: environment)
        guard let name = flags.environment, !name.isEmpty else {
            throw CommandFailure(message: "Expected non-empty Director URL")
        }
        let stored = try CLIConfig.load(environment: environment).find(name)
        return DirectorTarget(
            url: stored?.url ?? normalizedURL(name), name: name,
            caPEM: try caText(flags.caCert) ?? stored?.caCert,
            client: flags.client ?? stored?.username, clientSecret: flags.clientSecret ?? stored?.password)
    }
}
