import Foundation
import Logging
import ServiceLifecycle
import TestSupport
import Testing

@testable import Director
@testable import NATS

/// The director's own nats-server, for real: certificates from the director's CA, an agent let in
/// while the server runs, and each agent kept to its own subjects.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nats-server")))
struct ManagedNATSServerTests {
    static func clientConfiguration(
        url: String, caPath: String, certificate: String, key: String
    ) -> NATSClientConfiguration {
        var configuration = NATSClientConfiguration(
            servers: [URL(string: url)!], pingInterval: .seconds(1), reconnectDelay: .milliseconds(100),
            maxReconnectDelay: .milliseconds(500))
        configuration.tls = .init(caFile: caPath, certificateFile: certificate, privateKeyFile: key)
        return configuration
    }

    @Test func agentsGetInOnlyWhenAllowedAndOnlyToTheirOwnSubjects() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bosun-nats-managed-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certs = directory + "/certs"
        try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
        try DirectorIdentity.generateCertificates(
            addresses: ["127.0.0.1"], caPath: certs + "/director-ca.crt", caKeyPath: certs + "/director-ca.key",
            certificatePath: certs + "/director.crt", keyPath: certs + "/director.key")
        let nats = try NATSCertificates.loadOrCreate(directory: certs, serverAddresses: ["127.0.0.1"])
        func write(_ pem: String, _ name: String) throws -> String {
            let path = directory + "/" + name
            try pem.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let directorCertificate = try write(nats.directorCertificatePEM, "director.crt")
        let directorKey = try write(nats.directorKeyPEM, "director.key")
        var agentFiles: [String: (String, String)] = [:]
        for agent in ["agent-1", "agent-2"] {
            let credentials = try nats.agentCredentials(agentID: agent)
            agentFiles[agent] = (
                try write(credentials.certificate, agent + ".crt"), try write(credentials.key, agent + ".key")
            )
        }
        let logger = { () -> Logger in
            var logger = Logger(label: "nats-managed-test")
            logger.logLevel = .critical
            return logger
        }()
        let files = agentFiles
        let server = ManagedNATSServer(
            configuration: NATSServerConfiguration(
                host: "127.0.0.1", port: 0, certificatePath: nats.serverCertificatePath, keyPath: nats.serverKeyPath,
                caPath: nats.caPath, agentIDs: ["agent-1"]),
            directory: directory + "/nats", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        try await whileRunning(group) {
            let url = try await server.url()
            let director = Self.clientConfiguration(
                url: url, caPath: nats.caPath, certificate: directorCertificate, key: directorKey)
            // Agents get `nats://` URLs, as from BOSH (the Go agent knows no `tls://`): the server's
            // demand still puts the connection under TLS with the agent's certificate.
            #expect(url.hasPrefix("tls://"))
            let agentURL = "nats://" + url.dropFirst("tls://".count)
            let agent1 = Self.clientConfiguration(
                url: agentURL, caPath: nats.caPath, certificate: files["agent-1"]!.0, key: files["agent-1"]!.1)
            let agent2 = Self.clientConfiguration(
                url: url, caPath: nats.caPath, certificate: files["agent-2"]!.0, key: files["agent-2"]!.1)

            // agent-2 is not allowed yet: the server refuses it.
            let refused = try NATSClient(configuration: agent2, logger: logger)
            await #expect(throws: NATSClientError.self) {
                _ = try await NATSConnection.connect(
                    to: NATSEndpoint(agent2.servers[0])!, configuration: agent2, sslContext: refused.sslContext,
                    delegate: refused, group: refused.group, logger: logger)
            }

            try await withRunningClient(director) { director in
                let replies = try await director.subscribe(to: "director.d-1.>")
                try await withRunningClient(agent1) { agent in
                    let inbox = try await agent.subscribe(to: "agent.agent-1")
                    await #expect(throws: NATSClientError.self) { _ = try await agent.subscribe(to: "agent.agent-2") }
                    try await director.flush()
                    try director.publish("ping", to: "agent.agent-1")
                    #expect(try await collect(inbox, count: 1).first?.string == "ping")
                    try agent.publish("pong", to: "director.d-1.agent-1.r1")
                    #expect(try await collect(replies, count: 1).first?.subject == "director.d-1.agent-1.r1")
                }

                // Let agent-2 in while everything runs; the director's connection stays up.
                try server.allow(agentIDs: ["agent-2"])
                var connected = false
                for _ in 0..<50 where !connected {
                    connected =
                        (try? await withRunningClient(agent2) { agent in
                            _ = try await agent.subscribe(to: "agent.agent-2")
                            try await agent.flush()
                            return true
                        }) ?? false
                    if !connected { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(connected)
                try await director.flush()
            }
        }
    }

    /// The Go agent refuses a NATS server whose certificate is not named `*.nats.bosh-internal`;
    /// a state directory whose certificate predates the name gets a new one on the next start.
    @Test func theServerCertificateHasTheNameTheGoAgentPinsAndOldOnesAreIssuedAgain() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bosun-nats-names-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try DirectorIdentity.generateCertificates(
            addresses: ["127.0.0.1"], caPath: directory + "/director-ca.crt", caKeyPath: directory + "/director-ca.key",
            certificatePath: directory + "/director.crt", keyPath: directory + "/director.key")
        let first = try NATSCertificates.loadOrCreate(directory: directory, serverAddresses: ["10.244.0.1"])
        let names = try Self.subjectAndNames(first.serverCertificatePath)
        #expect(
            names.contains("CN = default.nats.bosh-internal") || names.contains("CN=default.nats.bosh-internal"),
            "\(names)")
        #expect(names.contains("DNS:default.nats.bosh-internal") && names.contains("IP Address:10.244.0.1"), "\(names)")
        let issued = try String(contentsOfFile: first.serverCertificatePath, encoding: .utf8)
        _ = try NATSCertificates.loadOrCreate(directory: directory, serverAddresses: ["10.244.0.1"])
        #expect(
            try String(contentsOfFile: first.serverCertificatePath, encoding: .utf8) == issued,
            "kept while nothing changed")
        // What a director before the rename recorded: the addresses only.
        try "10.244.0.1\n127.0.0.1".write(
            toFile: directory + "/nats-server.addresses", atomically: true, encoding: .utf8)
        _ = try NATSCertificates.loadOrCreate(directory: directory, serverAddresses: ["10.244.0.1"])
        #expect(try String(contentsOfFile: first.serverCertificatePath, encoding: .utf8) != issued, "issued again")
        #expect(try Self.subjectAndNames(first.serverCertificatePath).contains("DNS:default.nats.bosh-internal"))
    }

    static func subjectAndNames(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-in", path, "-noout", "-subject", "-ext", "subjectAltName"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
