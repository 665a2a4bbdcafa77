import Foundation

/// The VM's system certificate store, where `update_settings`' `trusted_certs` end up so that jobs
/// (curl, OpenSSL, Go, Java with the system bundle) trust them: each certificate becomes
/// `/usr/local/share/ca-certificates/bosh-trusted-cert-<n>.crt`, older ones are removed, and
/// `update-ca-certificates -f` rebuilds `/etc/ssl/certs/ca-certificates.crt`, as BOSH's Linux agent does.
///
/// With a private agent root the store lives under the agent's host root (`<root>/host`), and
/// `update-ca-certificates` is pointed there with its directory options, so a test never touches the
/// machine's own trust store.
struct SystemTrustStore {
    var hostRoot: String

    var localCertificates: String { hostRoot + "/usr/local/share/ca-certificates" }
    var bundle: String { hostRoot + "/etc/ssl/certs/ca-certificates.crt" }
    static let prefix = "bosh-trusted-cert-"

    /// Replaces the BOSH certificates in the store and rebuilds the bundle. Nothing to add and none
    /// installed before: nothing is touched (a read-only `/usr`, as on local-CPI VMs, is then fine).
    func replace(with certificates: [String]) async throws {
        let installed = ((try? FileManager.default.contentsOfDirectory(atPath: localCertificates)) ?? []).filter { $0.hasPrefix(Self.prefix) }
        if certificates.isEmpty && installed.isEmpty { return }
        guard let tool = Self.updateTool else {
            throw ActionError("update_settings: trusted_certs need update-ca-certificates, which this VM does not have")
        }
        try Self.write(certificates, into: localCertificates)
        do {
            try await ProcessRunner.checked(tool, ["--fresh"] + (try privateRootArguments()))
        } catch {
            throw ActionError("update_settings: update-ca-certificates failed: \(error)")
        }
    }

    /// `update-ca-certificates`' directory options aimed inside the host root; none on a real VM.
    private func privateRootArguments() throws -> [String] {
        guard !hostRoot.isEmpty else { return [] }
        let conf = hostRoot + "/etc/ca-certificates.conf"
        let shared = hostRoot + "/usr/share/ca-certificates"
        let etc = hostRoot + "/etc/ssl/certs"
        let hooks = hostRoot + "/etc/ca-certificates/update.d"
        for directory in [shared, etc, hooks] { try Filesystem.makeDirectory(directory, mode: 0o755) }
        if !FileManager.default.fileExists(atPath: conf) { _ = FileManager.default.createFile(atPath: conf, contents: Data()) }
        // With no system certificates listed, the tool writes no bundle at all when no BOSH
        // certificate is left either; a stale one must not survive that.
        unlink(bundle)
        return ["--certsconf", conf, "--certsdir", shared, "--localcertsdir", localCertificates, "--etccertsdir", etc, "--hooksdir", hooks]
    }

    /// Replaces the `bosh-trusted-cert-<n>.crt` files of `directory` with `certificates` (0644);
    /// other files there are left alone. Also the agent's own copy in `bosh/trusted_certs/`.
    static func write(_ certificates: [String], into directory: String) throws {
        try Filesystem.makeDirectory(directory, mode: 0o755)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            unlink(directory + "/" + name)
        }
        for (index, certificate) in certificates.enumerated() {
            let path = directory + "/\(prefix)\(index + 1).crt"
            guard FileManager.default.createFile(atPath: path, contents: Data(certificate.utf8), attributes: [.posixPermissions: 0o644]) else {
                throw ActionError("update_settings: cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    private static var updateTool: String? {
        ["/usr/sbin/update-ca-certificates", "/usr/bin/update-ca-certificates"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
