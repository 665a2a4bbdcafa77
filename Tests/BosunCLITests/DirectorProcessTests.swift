import Blobstore
import BosunCore
import Foundation
import NATS
import TestSupport
import Testing

/// The `bosun-director` executable as operators run it.
@Suite("bosun-director process", .serialized, .timeLimit(.minutes(2)))
struct DirectorProcessTests {
    /// A director on free ports with its state under `scratch`; returns it and its blobstore port.
    static func startDirector(in scratch: ScratchDirectory) async throws -> (DirectorCrashTests.DirectorProcess, Int) {
        let state = scratch.url.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let port = try PostgresServerProcess.freePort(), blobstorePort = try PostgresServerProcess.freePort()
        try "port: \(port)\nblobstore_port: \(blobstorePort)\nnats: {port: 0}\n".write(
            toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        let director = DirectorCrashTests.DirectorProcess(state: state, port: port)
        try await director.start()
        return (director, blobstorePort)
    }

    @Test("it also serves the blobstore agents use, on its blobstore port, with the agent credentials it generated")
    func blobstore() async throws {
        let scratch = try ScratchDirectory()
        let (director, blobstorePort) = try await Self.startDirector(in: scratch)
        defer { director.stop() }
        let state = director.state

        let password = try String(contentsOfFile: state + "/blobstore-agent-password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try FileManager.default.attributesOfItem(atPath: state + "/blobstore-agent-password")[.posixPermissions]
                as? Int == 0o600)
        let ca = try String(contentsOfFile: state + "/certs/director-ca.crt", encoding: .utf8)
        let client = try BlobstoreSettings(
            provider: "dav",
            options: .init(endpoint: "https://127.0.0.1:\(blobstorePort)", user: "agent", password: password, caPEM: ca)
        ).makeClient()
        let file = try scratch.write("blob", "compiled package bits")
        let id = try await client.put(fileAt: file)
        #expect(FileManager.default.fileExists(atPath: state + "/blobstore/" + BlobLayout.relativePath(of: id)))
        let sha1 = try await BlobFiles.digest(ofFileAt: file, algorithm: .sha1)
        try await client.get(id, digest: BlobDigest(sha1: sha1), to: file + ".down")
        #expect(try String(contentsOfFile: file + ".down", encoding: .utf8) == "compiled package bits")
        let intruder = try BlobstoreSettings(
            provider: "dav",
            options: .init(endpoint: "https://127.0.0.1:\(blobstorePort)", user: "agent", password: "wrong", caPEM: ca)
        ).makeClient()
        await #expect(throws: BlobstoreError.self) { _ = try await intruder.put(fileAt: file) }
    }

    @Test("the admin password it generates is written to a 0600 file once and never to its output or log")
    func adminPasswordStaysInItsFile() async throws {
        let scratch = try ScratchDirectory()
        let (director, _) = try await Self.startDirector(in: scratch)
        let state = director.state
        let password = try String(contentsOfFile: state + "/admin-password", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(password.count >= 20)
        #expect(
            try FileManager.default.attributesOfItem(atPath: state + "/admin-password")[.posixPermissions] as? Int
                == 0o600)
        director.stop()
        let log = try String(contentsOfFile: state + "/../director.log", encoding: .utf8)
        #expect(log.contains("\(state)/admin-password (mode 0600)"), "\(log.prefix(500))")
        #expect(!log.contains(password))
    }

    @Test("it runs its own nats-server: TLS with the director's CA, client certificates required")
    func nats() async throws {
        let scratch = try ScratchDirectory()
        let (director, _) = try await Self.startDirector(in: scratch)
        defer { director.stop() }
        let state = director.state
        var url: String?
        for _ in 0..<100 where url == nil {
            url = try? String(contentsOfFile: state + "/nats/url", encoding: .utf8)
            if url == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let address = try #require(url.flatMap(URL.init(string:)))
        #expect(address.scheme == "tls" && address.host == "127.0.0.1")
        var configuration = NATSClientConfiguration(servers: [address], reconnectDelay: .milliseconds(100))
        configuration.tls = .init(
            caFile: state + "/certs/director-ca.crt", certificateFile: state + "/certs/nats-director.crt",
            privateKeyFile: state + "/certs/nats-director.key")
        try await withRunningClient(configuration) { client in
            // The director may publish alerts and read them back; nothing else is needed for this check.
            let replies = try await client.subscribe(to: "hm.director.alert")
            try client.publish("hello", to: "hm.director.alert")
            #expect(try await collect(replies, count: 1).first?.string == "hello")
        }
        #expect(
            try FileManager.default.attributesOfItem(atPath: state + "/certs/nats-director.key")[.posixPermissions]
                as? Int == 0o600)
    }
}
