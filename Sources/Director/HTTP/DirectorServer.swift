import Hummingbird
import HummingbirdTLS
import NIOCore
import Logging
import NIOSSL
import ServiceLifecycle

/// The director's HTTPS API (Hummingbird 2): TLS 1.2+ with its RSA certificate, Basic
/// authentication on every route but `/info`, and one controller per resource.
public struct DirectorServer: Sendable {
    public let configuration: DirectorConfiguration
    public let identity: DirectorIdentity
    public let database: DirectorDatabase
    public let tasks: TaskRunner
    public let metrics: DirectorMetrics

    public init(
        configuration: DirectorConfiguration, identity: DirectorIdentity, database: DirectorDatabase, tasks: TaskRunner,
        metrics: DirectorMetrics = DirectorMetrics()
    ) {
        self.configuration = configuration
        self.identity = identity
        self.database = database
        self.tasks = tasks
        self.metrics = metrics
    }

    func router() -> Router<DirectorRequestContext> {
        let router = Router(context: DirectorRequestContext.self)
        router.add(middleware: RequestMetrics(metrics: metrics))
        router.add(middleware: BasicAuthentication(users: identity.users))
        let metrics = self.metrics, database = self.database
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: try await metrics.render(database: database.database))))
        }
        InfoController(configuration: configuration, identity: identity).addRoutes(to: router)
        TaskController(database: database.database, runner: tasks).addRoutes(to: router)
        ConfigController(store: ConfigStore(database: database.database)).addRoutes(to: router)
        EventController(database: database.database).addRoutes(to: router)
        DeploymentController(database: database.database, runner: tasks).addRoutes(to: router)
        CleanupController(database: database.database, runner: tasks).addRoutes(to: router)
        VariablesController(database: database.database, runner: tasks, directorName: configuration.name).addRoutes(to: router)
        ProblemsController(database: database.database, runner: tasks).addRoutes(to: router)
        if let blobs = tasks.blobs { ResourcesController(database: database.database, runner: tasks, blobs: blobs).addRoutes(to: router) }
        ResurrectionController(resurrection: ResurrectionSwitch(stateDirectory: configuration.stateDirectory)).addRoutes(to: router)
        StemcellController(database: database.database, runner: tasks, uploadsDirectory: configuration.uploadsDirectory)
            .addRoutes(to: router)
        ReleaseController(database: database.database, runner: tasks, uploadsDirectory: configuration.uploadsDirectory)
            .addRoutes(to: router)
        return router
    }

    /// The API as a Service on `configuration.address`; `port` 0 picks a free port, reported
    /// through `onListening`.
    public func application(
        port: Int? = nil, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol & Service {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        let port = port ?? configuration.apiPort
        return Application(
            router: router(),
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(configuration.address, port: port), serverName: "bosun-director"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
