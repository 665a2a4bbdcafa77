import Blobstore
import Director
import Foundation
import Logging
import ServiceLifecycle

/// A real HTTPS blobstore (the director's) on a free port, for the duration of a test.
public struct RunningBlobstore: Sendable {
    public let endpoint: String
    public let caPEM: String
    public let storage: BlobStorage
    public let user: String
    public let password: String

    /// What an agent's settings carry to reach it.
    public var settings: BlobstoreSettings {
        BlobstoreSettings(
            provider: "dav", options: .init(endpoint: endpoint, user: user, password: password, caPEM: caPEM))
    }

    public func client() throws -> any BlobstoreClient { try settings.makeClient() }
}

/// Starts the blobstore on `host` with a fresh CA, runs `body`, stops it and removes its files.
public func withBlobstoreServer<T: Sendable>(
    host: String = "127.0.0.1", _ body: @escaping @Sendable (RunningBlobstore) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-blobstore-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try TestCertificates.generate(in: directory, serverIPs: Set(["127.0.0.1", host]).sorted(), clients: [])
    let read = { (name: String) in try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) }
    let storage = try BlobStorage(root: directory.appendingPathComponent("blobs").path)
    let password = UUID().uuidString
    var logger = Logger(label: "blobstore-test")
    logger.logLevel = .critical
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = try BlobstoreServer(storage: storage, users: ["agent": password]).application(
        host: host, port: 0, certificateChainPEM: try read("server.crt"), privateKeyPEM: try read("server.key"),
        logger: logger, onListening: { portContinuation.yield($0) })
    let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
    let caPEM = try read("ca.crt")
    return try await whileRunning(group) {
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BlobstoreError("blobstore did not start") }
        return try await body(
            RunningBlobstore(endpoint: "https://\(host):\(port)", caPEM: caPEM, storage: storage, user: "agent", password: password))
    }
}
