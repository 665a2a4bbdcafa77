import Blobstore
import FluentKit
import Foundation
import Logging
import ServiceLifecycle

/// `bosun-director [--state-dir DIR] [--port N]`: the director on its embedded defaults (state in
/// `~/.bosun/director` unless told otherwise, settings from `<state>/config.yml`).
public enum DirectorCommand {
    public static func main(arguments: [String]) async -> Int32 {
        var stateDirectory = (ProcessInfo.processInfo.environment["HOME"] ?? "/root") + "/.bosun/director"
        var port: Int?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let value = index + 1 < arguments.count ? arguments[index + 1] : nil
            switch argument {
            case "--state-dir" where value != nil: stateDirectory = value!
            case "--port" where value.flatMap(Int.init) != nil: port = Int(value!)
            default:
                FileHandle.standardError.write(Data("bosun-director: unknown or incomplete option \(argument)\n".utf8))
                return 2
            }
            index += 2
        }
        var logger = Logger(label: "bosun-director")
        logger.logLevel =
            ProcessInfo.processInfo.environment["BOSUN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        do {
            var configuration = try DirectorConfiguration.load(stateDirectory: stateDirectory)
            if let port { configuration.apiPort = port }
            let identity = try DirectorIdentity.loadOrCreate(configuration)
            var announcement = "Director CA certificate: \(identity.caPath)\n"
            if identity.generatedAdminPassword != nil {
                // Never printed: standard output usually ends up in a log file. Only its place is.
                announcement += "Generated an admin password; it is in \(stateDirectory)/admin-password (mode 0600)\n"
            }
            FileHandle.standardOutput.write(Data(announcement.utf8))
            let database = try await DirectorDatabase.open(configuration, logger: logger)
            logger.info("Database ready", metadata: ["director.database": "\(database.kind.rawValue)"])
            let address = configuration.address
            let announce = logger
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().path
            let cpi = try DirectorCPI.make(configuration, directorUUID: identity.uuid, binariesDirectory: binaries)
            let metrics = DirectorMetrics()
            let natsCertificates = try NATSCertificates.loadOrCreate(
                directory: configuration.certificatesDirectory, serverAddresses: [configuration.natsAddressForAgents])
            let knownAgents = Set(try await VMRecord.query(on: database.database).all().map(\.agentID))
            let nats = try ManagedNATSServer.forDirector(
                configuration, certificates: natsCertificates, agentIDs: knownAgents, logger: logger)
            let deploy = try DeployEnvironment.forDirector(
                configuration, identity: identity, natsServer: nats, natsCertificates: natsCertificates, logger: logger)
            let tasks = TaskRunner(
                database: database.database, tasksDirectory: configuration.tasksDirectory, jobs: DirectorJobs.all,
                cpi: cpi,
                uploadsDirectory: configuration.uploadsDirectory,
                blobs: try BlobStorage(root: configuration.blobstoreDirectory),
                metrics: metrics, deploy: deploy, logger: logger)
            try await tasks.recoverAfterRestart()
            metrics.health = deploy.health
            let server = DirectorServer(
                configuration: configuration, identity: identity, database: database, tasks: tasks, metrics: metrics)
            let api = try server.application(logger: logger) { port in
                announce.info("Director API listening", metadata: ["director.address": "\(address):\(port)"])
            }
            // The blobstore agents download packages and templates from, with the director's certificate.
            // With signed URLs on, agents hold no blobstore password and the `agent` user is gone.
            let blobstore = try BlobstoreServer(
                storage: try BlobStorage(root: configuration.blobstoreDirectory),
                users: configuration.signedBlobURLs ? [:] : ["agent": identity.blobstoreAgentPassword],
                signedURLs: identity.signedBlobURLs(configuration)
            ).application(
                host: configuration.listenHost(advertised: configuration.addressForAgents),
                port: configuration.blobstorePort, certificateChainPEM: identity.certificatePEM,
                privateKeyPEM: identity.privateKeyPEM, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        nats, deploy.agents, tasks, api, blobstore,
                        NATSAnnouncement(server: nats, directory: configuration.natsDirectory, logger: logger),
                        ScheduledCleanup(
                            tasks: tasks, database: database.database,
                            interval: configuration.orphanedVMCleanupInterval,
                            maxDiskAgeSeconds: configuration.orphanedDiskMaxAgeSeconds, logger: logger),
                        HealthMonitor(
                            hub: deploy.agents, tasks: tasks, database: database.database,
                            settings: configuration.healthMonitor,
                            stateDirectory: configuration.stateDirectory, board: deploy.health, logger: logger),
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                await database.shutdown()
                throw error
            }
            await database.shutdown()
            return 0
        } catch {
            logger.critical("Director failed", metadata: ["director.error": "\(error)"])
            return 1
        }
    }
}
