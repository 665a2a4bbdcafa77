import Blobstore
import BosunCore
import Credentials
import Foundation

/// What a director keeps about itself across restarts, made on first start in the state
/// directory: its UUID, its CA and TLS certificate (`certs/`), and — when the configuration names
/// no users — an `admin` with a generated password (`admin-password`, mode 0600).
public struct DirectorIdentity: Sendable {
    public let uuid: String
    public let caPEM: String
    public let certificatePEM: String
    public let privateKeyPEM: String
    public let users: [String: String]
    /// The blobstore credentials agents use (`agent` / this), generated once, stored 0600.
    public let blobstoreAgentPassword: String
    /// The key of the blobstore's pre-signed URLs, generated once, stored 0600.
    public let blobstoreSigningSecret: String
    /// Where the CA is, for operators (`--ca-cert`).
    public let caPath: String
    /// Set only on the start that generated the admin password, so it can be printed once.
    public let generatedAdminPassword: String?

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static func loadOrCreate(_ configuration: DirectorConfiguration) throws -> DirectorIdentity {
        let state = configuration.stateDirectory
        let certs = configuration.certificatesDirectory
        do {
            try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(state, 0o700)
        } catch {
            throw Failure(description: "cannot create the state directory \(state): \(error.localizedDescription)")
        }
        let uuid = try readOrCreate(state + "/uuid") { UUID().uuidString.lowercased() }
        let ca = certs + "/director-ca.crt", caKey = certs + "/director-ca.key"
        let certificate = certs + "/director.crt", key = certs + "/director.key"
        let addresses = Set(
            ["127.0.0.1", "localhost", configuration.address, configuration.addressForAgents] + configuration.certificateAddresses
        ).sorted()
        let addressesFile = certs + "/director.addresses"
        let recordedAddresses = (try? String(contentsOfFile: addressesFile, encoding: .utf8)) ?? ""
        if !FileManager.default.fileExists(atPath: ca) || !FileManager.default.fileExists(atPath: certificate)
            || recordedAddresses != addresses.joined(separator: "\n")
        {
            try generateCertificates(
                addresses: addresses, caPath: ca, caKeyPath: caKey, certificatePath: certificate, keyPath: key)
            try write(addresses.joined(separator: "\n"), to: addressesFile, mode: 0o600)
        }
        var users = configuration.users
        var generated: String?
        if users.isEmpty {
            let passwordFile = state + "/admin-password"
            let password = try readOrCreate(passwordFile) {
                let value = try CredentialGenerator().generate(VariableDefinition(name: "admin", type: "password"), lookup: { _ in nil })
                generated = value.stringValue
                return value.stringValue ?? ""
            }
            users = ["admin": password]
        }
        let blobstorePassword = try readOrCreate(state + "/blobstore-agent-password") {
            try CredentialGenerator().generate(VariableDefinition(name: "blobstore", type: "password"), lookup: { _ in nil }).stringValue ?? ""
        }
        let signingSecret = try readOrCreate(state + "/blobstore-signing-secret") {
            try CredentialGenerator().generate(VariableDefinition(name: "signing", type: "password"), lookup: { _ in nil }).stringValue ?? ""
        }
        return DirectorIdentity(
            uuid: uuid, caPEM: try read(ca), certificatePEM: try read(certificate), privateKeyPEM: try read(key), users: users,
            blobstoreAgentPassword: blobstorePassword, blobstoreSigningSecret: signingSecret,
            caPath: ca, generatedAdminPassword: generated)
    }

    /// The signer of blobstore URLs for agents, when `blobstore.enable_signed_urls` is on.
    public func signedBlobURLs(_ configuration: DirectorConfiguration) -> SignedBlobURLs? {
        guard configuration.signedBlobURLs else { return nil }
        // Six hours: a compile signs its upload URL before a packaging script that may run long.
        return SignedBlobURLs(
            secret: Array(blobstoreSigningSecret.utf8), endpoint: configuration.blobstoreEndpointForAgents, lifetime: .seconds(6 * 3600))
    }

    /// A CA made once (kept unless missing) and an RSA-2048 server certificate for `addresses`,
    /// remade when the addresses change; the `bosh` CLI wants RSA and a SAN per address it uses.
    static func generateCertificates(addresses: [String], caPath: String, caKeyPath: String, certificatePath: String, keyPath: String) throws {
        let generator = CredentialGenerator()
        var ca: YAMLValue
        if let certificate = try? String(contentsOfFile: caPath, encoding: .utf8),
            let privateKey = try? String(contentsOfFile: caKeyPath, encoding: .utf8)
        {
            ca = ["certificate": .string(certificate), "private_key": .string(privateKey), "ca": .string(certificate)]
        } else {
            ca = try generator.generate(
                VariableDefinition(name: "director_ca", type: "certificate", options: ["is_ca": true, "common_name": "Bosun Director CA", "duration": 3650, "key_length": 2048]),
                lookup: { _ in nil })
            try write(ca["private_key"]?.stringValue ?? "", to: caKeyPath, mode: 0o600)
            try write(ca["certificate"]?.stringValue ?? "", to: caPath, mode: 0o644)
        }
        let leaf = try generator.generate(
            VariableDefinition(name: "director_tls", type: "certificate", options: [
                "ca": "director_ca", "common_name": .string(addresses.first ?? "127.0.0.1"),
                "alternative_names": .array(addresses.map(YAMLValue.string)), "extended_key_usage": ["server_auth"], "duration": 3650,
                "key_length": 2048,
            ]),
            lookup: { name in name == "director_ca" ? ca : nil })
        try write(leaf["private_key"]?.stringValue ?? "", to: keyPath, mode: 0o600)
        try write(leaf["certificate"]?.stringValue ?? "", to: certificatePath, mode: 0o644)
    }

    private static func readOrCreate(_ path: String, _ make: () throws -> String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let value = try make()
        try write(value + "\n", to: path, mode: 0o600)
        return value
    }

    private static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read \(path)")
        }
    }

    /// Through a temporary file and a rename, with the mode set before any byte is written.
    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]),
            rename(temporary, path) == 0
        else {
            unlink(temporary)
            throw Failure(description: "cannot write \(path)")
        }
    }
}
