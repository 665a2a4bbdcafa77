import Director
import Foundation
import Logging
import ServiceLifecycle

/// A director API started in-process on 127.0.0.1 (free port) with its own state directory.
public struct RunningDirector: Sendable {
    public let url: String
    public let caPEM: String
    public let identity: DirectorIdentity
    public let configuration: DirectorConfiguration
    public let database: DirectorDatabase
    public let tasks: TaskRunner
    /// The generated admin's password (or the first configured user's).
    public var adminPassword: String { identity.users["admin"] ?? identity.users.values.first ?? "" }
}

/// Starts a director on a new (or the given) state directory, runs `body`, stops it; a state
/// directory it made itself is removed afterwards.
public func withDirector<T: Sendable>(
    stateDirectory given: String? = nil, configYAML: String? = nil, jobs: [String: any TaskJob] = [:],
    _ body: @escaping @Sendable (RunningDirector) async throws -> T
) async throws -> T {
    let stateDirectory = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("bosun-director-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
    defer { if given == nil { try? FileManager.default.removeItem(atPath: stateDirectory) } }
    if let configYAML { try configYAML.write(toFile: stateDirectory + "/config.yml", atomically: true, encoding: .utf8) }
    let configuration = try DirectorConfiguration.load(stateDirectory: stateDirectory)
    let identity = try DirectorIdentity.loadOrCreate(configuration)
    var logger = Logger(label: "director-test")
    logger.logLevel = ProcessInfo.processInfo.environment["DIRECTOR_TEST_LOG"] == nil ? .critical : .debug
    let database = try await DirectorDatabase.open(configuration, logger: logger)
    // The real local CPI, from the build products beside the tests.
    let cpi = try DirectorCPI.make(
        configuration, directorUUID: identity.uuid,
        binariesDirectory: URL(fileURLWithPath: BuiltProduct.path("bosun-local-cpi")).deletingLastPathComponent().path)
    let metrics = DirectorMetrics()
    let tasks = TaskRunner(
        database: database.database, tasksDirectory: configuration.tasksDirectory,
        jobs: DirectorJobs.all.merging(jobs) { _, test in test }, cpi: cpi, uploadsDirectory: configuration.uploadsDirectory,
        blobs: try BlobStorage(root: configuration.blobstoreDirectory), metrics: metrics, logger: logger)
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let api = try DirectorServer(configuration: configuration, identity: identity, database: database, tasks: tasks, metrics: metrics).application(
        port: 0, logger: logger, onListening: { portContinuation.yield($0) })
    let group = ServiceGroup(configuration: .init(services: [tasks, api], logger: logger))
    do {
        try await tasks.recoverAfterRestart()
        let result = try await whileRunning(group) {
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw DirectorIdentity.Failure(description: "director did not start") }
            return try await body(RunningDirector(
                url: "https://127.0.0.1:\(port)", caPEM: identity.caPEM, identity: identity, configuration: configuration,
                database: database, tasks: tasks))
        }
        await database.shutdown()
        return result
    } catch {
        await database.shutdown()
        throw error
    }
}
