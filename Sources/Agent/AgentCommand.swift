import Foundation
import Logging
import ServiceLifecycle

/// `bosun-agent [--settings FILE] [--root DIR] [--no-mounts] [--heartbeat-seconds N] [--logrotate-seconds N]
/// [--trim-seconds N (0: never)]`.
public enum AgentCommand {
    public static func main(arguments: [String]) async -> Int32 {
        var configuration = AgentConfiguration()
        var index = 0
        func value() -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--settings": if let v = value() { configuration.settingsFileOverride = v }
            case "--root": if let v = value() { configuration.paths = AgentPaths(root: v) }
            case "--no-mounts": configuration.mountFilesystems = false
            case "--heartbeat-seconds": if let v = value().flatMap(Double.init) { configuration.heartbeatInterval = .seconds(v) }
            case "--logrotate-seconds": if let v = value().flatMap(Double.init) { configuration.logRotationInterval = .seconds(v) }
            case "--trim-seconds": if let v = value().flatMap(Double.init) { configuration.trimInterval = v > 0 ? .seconds(v) : nil }
            default:
                FileHandle.standardError.write(Data("bosun-agent: unknown option \(arguments[index])\n".utf8))
                return 2
            }
            index += 1
        }
        // Everything goes to bosh/log/current and to stderr (for whatever runs the agent).
        try? FileManager.default.createDirectory(atPath: configuration.paths.log, withIntermediateDirectories: true)
        let logFile = AgentLogFile(path: configuration.paths.log + "/current")
        var logger = Logger(label: "bosun-agent") { label in
            MultiplexLogHandler([StreamLogHandler.standardError(label: label)] + (logFile.map { [$0] } ?? []))
        }
        logger.logLevel = .info
        do {
            let (nats, agent) = try AgentBootstrap.prepare(configuration, logger: logger)
            // The agent service ends after a `shutdown` request: that shuts the NATS connection down
            // gracefully too, and the process exits.
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: nats),
                        .init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup),
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            return 0
        } catch {
            logger.critical("Agent failed", metadata: ["agent.error": "\(error)"])
            return 1
        }
    }
}
