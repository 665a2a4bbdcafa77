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
    /// Set when the server was started with signed URLs on.
    public let signedURLs: SignedBlobURLs?

    /// What an agent's settings carry to reach it.
    public var settings: BlobstoreSettings {
        BlobstoreSettings(
            provider: "dav", options: .init(endpoint: endpoint, user: user, password: password, caPEM: caPEM))
    }

    /// Settings of an agent that holds no credentials (signed URLs only).
    public var credentialFreeSettings: BlobstoreSettings {
        BlobstoreSettings(provider: "dav", options: .init(endpoint: endpoint, caPEM: caPEM))
    }

    public func client() throws -> any BlobstoreClient { try settings.makeClient() }
}

/// The blobstore server of one test, started on `host` with a fresh CA; `stop` shuts it down and
/// removes its files.
public final class BlobstoreProcess: Sendable {
    public let running: RunningBlobstore
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let directory: URL

    private init(running: RunningBlobstore, group: ServiceGroup, task: Task<Void, any Error>, directory: URL) {
        self.running = running
        self.group = group
        self.task = task
        self.directory = directory
    }

    public static func start(host: String = "127.0.0.1", signedURLs: Bool = false) async throws -> BlobstoreProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-blobstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try TestCertificates.generate(in: directory, serverIPs: Set(["127.0.0.1", host]).sorted(), clients: [])
        let read = { (name: String) in try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) }
        let storage = try BlobStorage(root: directory.appendingPathComponent("blobs").path)
        let password = UUID().uuidString
        var logger = Logger(label: "blobstore-test")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let secret = Array(UUID().uuidString.utf8)
        let signer = { (endpoint: String) in signedURLs ? SignedBlobURLs(secret: secret, endpoint: endpoint) : nil }
        let application = try BlobstoreServer(storage: storage, users: ["agent": password], signedURLs: signer("https://\(host)")).application(
            host: host, port: 0, certificateChainPEM: try read("server.crt"), privateKeyPEM: try read("server.key"),
            logger: logger, onListening: { portContinuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let task = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try? FileManager.default.removeItem(at: directory)
            _ = try await task.value
            throw BlobstoreError("blobstore did not start")
        }
        let running = RunningBlobstore(
            endpoint: "https://\(host):\(port)", caPEM: try read("ca.crt"), storage: storage, user: "agent", password: password,
            signedURLs: signer("https://\(host):\(port)"))
        return BlobstoreProcess(running: running, group: group, task: task, directory: directory)
    }

    /// Shuts the server down, waits for it, and removes its files.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Starts the blobstore on `host`, runs `body`, stops it and removes its files.
public func withBlobstoreServer<T: Sendable>(
    host: String = "127.0.0.1", signedURLs: Bool = false, _ body: @escaping @Sendable (RunningBlobstore) async throws -> T
) async throws -> T {
    let blobstore = try await BlobstoreProcess.start(host: host, signedURLs: signedURLs)
    do {
        let result = try await body(blobstore.running)
        await blobstore.stop()
        return result
    } catch {
        await blobstore.stop()
        throw error
    }
}
