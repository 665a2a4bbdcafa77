import Blobstore
import BosunCore
import Foundation
import Testing
import TestSupport

/// The `bosun-director` executable as operators run it.
@Suite("bosun-director process", .serialized, .timeLimit(.minutes(2)))
struct DirectorProcessTests {
    @Test("it also serves the blobstore agents use, on its blobstore port, with the agent credentials it generated")
    func blobstore() async throws {
        let scratch = try ScratchDirectory()
        let state = scratch.url.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let port = try PostgresServerProcess.freePort(), blobstorePort = try PostgresServerProcess.freePort()
        try "port: \(port)\nblobstore_port: \(blobstorePort)\n".write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        let director = DirectorCrashTests.DirectorProcess(state: state, port: port)
        try await director.start()
        defer { director.stop() }

        let password = try String(contentsOfFile: state + "/blobstore-agent-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try FileManager.default.attributesOfItem(atPath: state + "/blobstore-agent-password")[.posixPermissions] as? Int == 0o600)
        let ca = try String(contentsOfFile: state + "/certs/director-ca.crt", encoding: .utf8)
        let client = try BlobstoreSettings(
            provider: "dav", options: .init(endpoint: "https://127.0.0.1:\(blobstorePort)", user: "agent", password: password, caPEM: ca)
        ).makeClient()
        let file = try scratch.write("blob", "compiled package bits")
        let id = try await client.put(fileAt: file)
        #expect(FileManager.default.fileExists(atPath: state + "/blobstore/" + BlobLayout.relativePath(of: id)))
        let sha1 = try await BlobFiles.digest(ofFileAt: file, algorithm: .sha1)
        try await client.get(id, digest: BlobDigest(sha1: sha1), to: file + ".down")
        #expect(try String(contentsOfFile: file + ".down", encoding: .utf8) == "compiled package bits")
        let intruder = try BlobstoreSettings(
            provider: "dav", options: .init(endpoint: "https://127.0.0.1:\(blobstorePort)", user: "agent", password: "wrong", caPEM: ca)
        ).makeClient()
        await #expect(throws: BlobstoreError.self) { _ = try await intruder.put(fileAt: file) }
    }
}
