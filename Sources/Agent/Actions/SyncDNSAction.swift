import AgentProtocol
import Blobstore
import BosunCore
import Foundation

/// `sync_dns(blobstore_id, sha1, version)`: fetches the director's DNS records blob and, when its
/// version is newer than the one the VM has, writes it to `/var/vcap/instance/dns/records.json` and
/// the name → address pairs to `/etc/hosts` (below the VM's own lines, which stay). Answers
/// `"synced"`.
struct SyncDNSAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let id = try arguments.string(0, "blobstore_id")
        let sha1 = try arguments.string(1, "sha1")
        guard arguments.count > 2, case .int(let version) = arguments[2] else { throw ActionError("Argument 2 (version) must be an integer") }
        return try await Self.sync(id, digest: sha1, version: version, signedURL: nil, agent: agent)
    }

    /// Installs records blob `id` (fetched through `signedURL` when given) if `version` is newer.
    static func sync(_ id: String, digest sha1: String, version: Int, signedURL: String?, agent: AgentContext) async throws -> JSONValue {
        let paths = agent.paths
        if let current = Self.version(at: paths.dnsRecords), current >= version { return "synced" }

        let blob = try await agent.blobFetcher().fetch(id, digest: sha1, what: "DNS records", signedURL: signedURL)
        defer { blob.discard() }
        guard let data = FileManager.default.contents(atPath: blob.path),
            let records = try? JSONCoding.decoder.decode(JSONValue.self, from: data), case .array(let rows)? = records["records"]
        else { throw ActionError("DNS records blob \(id) is not a records document") }
        var hosts = Self.keptHostsLines(at: paths.etcHosts) + Self.marker + "\n"
        for case .array(let row) in rows where row.count >= 2 {
            guard let ip = row[0].stringValue, let name = row[1].stringValue, Self.isHostsSafe(ip), Self.isHostsSafe(name) else { continue }
            hosts += "\(ip) \(name)\n"
        }
        do {
            try Filesystem.makeDirectory(URL(fileURLWithPath: paths.dnsRecords).deletingLastPathComponent().path, mode: 0o755)
            try Filesystem.makeDirectory(URL(fileURLWithPath: paths.etcHosts).deletingLastPathComponent().path, mode: 0o755)
            // In place: in containers /etc/hosts is a bind mount, which a rename cannot replace.
            try Data(hosts.utf8).write(to: URL(fileURLWithPath: paths.etcHosts))
            try data.write(to: URL(fileURLWithPath: paths.dnsRecords), options: .atomic)
        } catch {
            throw ActionError("Cannot write the DNS records: \(error)")
        }
        return "synced"
    }

    /// Where the records start in `/etc/hosts`; the lines above it (localhost, the VM's own
    /// name) are kept as the VM had them.
    static let marker = "# BOSH DNS records (bosun-agent sync_dns)"

    static func keptHostsLines(at path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
            return "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
        }
        let kept = text.components(separatedBy: marker).first ?? ""
        return kept.isEmpty || kept.hasSuffix("\n") ? kept : kept + "\n"
    }

    static func version(at path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path),
            case .int(let version)? = (try? JSONCoding.decoder.decode(JSONValue.self, from: data))?["version"]
        else { return nil }
        return version
    }

    /// One token without whitespace or comment marks, so a record cannot add lines to /etc/hosts.
    static func isHostsSafe(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && $0 != "#" }
    }
}

/// `sync_dns_with_signed_url({signed_url, multi_digest, version})`: `sync_dns` for an agent without
/// blobstore credentials.
struct SyncDNSWithSignedURLAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let request = try arguments.object(0, "request")
        guard let url = request["signed_url"]?.stringValue, let digest = request["multi_digest"]?.stringValue,
            case .int(let version)? = request["version"]
        else { throw ActionError("sync_dns_with_signed_url: signed_url, multi_digest and an integer version are required") }
        return try await SyncDNSAction.sync(DAVBlobstoreClient.blobName(url), digest: digest, version: version, signedURL: url, agent: agent)
    }
}
