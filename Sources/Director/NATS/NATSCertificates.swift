import BosunCore
import Credentials
import Foundation

/// Certificates for the message bus, all issued by the director's CA: the server's (with a SAN per
/// address clients use), the director's client certificate, and one client certificate per agent,
/// made when its VM is created and handed to it in the VM's env — never written on the director.
struct NATSCertificates: Sendable {
    let caPath: String
    let caPEM: String
    let serverCertificatePath: String
    let serverKeyPath: String
    let directorCertificatePEM: String
    let directorKeyPEM: String
    private let ca: YAMLValue

    /// The server's name: the Go bosh-agent pins it to `^[a-zA-Z0-9*\-]*.nats.bosh-internal$`
    /// (`mbus/nats_handler.go`) and refuses any other, so it is BOSH's, not a Bosun name.
    static let serverName = "default.nats.bosh-internal"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Loads the server and director certificates from `directory`, making them when missing or
    /// when the server's addresses changed. The CA is the director's (`director-ca.crt`/`.key`).
    static func loadOrCreate(directory: String, serverAddresses: [String]) throws -> NATSCertificates {
        let caPath = directory + "/director-ca.crt"
        guard let caPEM = try? String(contentsOfFile: caPath, encoding: .utf8),
            let caKey = try? String(contentsOfFile: directory + "/director-ca.key", encoding: .utf8)
        else {
            throw Failure(description: "the director CA is missing from \(directory)")
        }
        let ca: YAMLValue = ["certificate": .string(caPEM), "private_key": .string(caKey), "ca": .string(caPEM)]
        let addresses = Set(["127.0.0.1"] + serverAddresses).sorted()
        let serverCertificate = directory + "/nats-server.crt", serverKey = directory + "/nats-server.key"
        let directorCertificate = directory + "/nats-director.crt", directorKey = directory + "/nats-director.key"
        // What the server certificate was issued for: its name and addresses. A state directory
        // from before the name changed records addresses only, so its certificate is issued anew.
        let addressesFile = directory + "/nats-server.addresses"
        let wanted = ([serverName] + addresses).joined(separator: "\n")
        let recorded = (try? String(contentsOfFile: addressesFile, encoding: .utf8)) ?? ""
        if !FileManager.default.fileExists(atPath: serverCertificate) || recorded != wanted {
            let server = try issue(
                ca: ca, commonName: serverName, alternativeNames: addresses + [serverName], usage: "server_auth")
            try DirectorIdentity.write(server.key, to: serverKey, mode: 0o600)
            try DirectorIdentity.write(server.certificate, to: serverCertificate, mode: 0o644)
            try DirectorIdentity.write(wanted, to: addressesFile, mode: 0o600)
        }
        if !FileManager.default.fileExists(atPath: directorCertificate) {
            let director = try issue(
                ca: ca, commonName: NATSServerConfiguration.directorIdentity,
                alternativeNames: [NATSServerConfiguration.directorIdentity], usage: "client_auth")
            try DirectorIdentity.write(director.key, to: directorKey, mode: 0o600)
            try DirectorIdentity.write(director.certificate, to: directorCertificate, mode: 0o644)
        }
        return NATSCertificates(
            caPath: caPath, caPEM: caPEM, serverCertificatePath: serverCertificate, serverKeyPath: serverKey,
            directorCertificatePEM: try String(contentsOfFile: directorCertificate, encoding: .utf8),
            directorKeyPEM: try String(contentsOfFile: directorKey, encoding: .utf8), ca: ca)
    }

    /// A client certificate whose identity may only use `agentID`'s subjects.
    func agentCredentials(agentID: String) throws -> (certificate: String, key: String) {
        let identity = NATSServerConfiguration.agentIdentity(agentID)
        return try Self.issue(ca: ca, commonName: identity, alternativeNames: [identity], usage: "client_auth")
    }

    private static func issue(
        ca: YAMLValue, commonName: String, alternativeNames: [String], usage: String
    ) throws -> (certificate: String, key: String) {
        let leaf = try CredentialGenerator().generate(
            VariableDefinition(
                name: "nats", type: "certificate",
                options: [
                    "ca": "director_ca", "common_name": .string(commonName),
                    "alternative_names": .array(alternativeNames.map(YAMLValue.string)),
                    "extended_key_usage": [.string(usage)],
                    "duration": 730, "key_length": 2048,
                ]),
            lookup: { name in name == "director_ca" ? ca : nil })
        return (leaf["certificate"]?.stringValue ?? "", leaf["private_key"]?.stringValue ?? "")
    }
}
