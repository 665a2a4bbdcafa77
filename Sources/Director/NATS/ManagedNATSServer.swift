import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The `nats-server` the director runs on embedded defaults: started with the director, restarted
/// if it dies, stopped with it. Letting an agent in rewrites the configuration and reloads the
/// server (SIGHUP), so connected clients stay connected.
public final class ManagedNATSServer: Service, Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private struct State {
        var configuration: NATSServerConfiguration
        var process: Process?
        var port: Int?
        var output = ""
        var stopping = false
    }

    let directory: String
    let executable: String
    let logger: Logger
    private let state: Mutex<State>
    private let writing = Mutex<Void>(())

    init(configuration: NATSServerConfiguration, directory: String, executable: String = "/usr/sbin/nats-server", logger: Logger) {
        self.directory = directory
        self.executable = executable
        self.logger = logger
        var configuration = configuration
        configuration.pidFile = directory + "/nats-server.pid"
        self.state = Mutex(State(configuration: configuration))
    }

    private var configurationPath: String { directory + "/nats-server.conf" }
    private var pidPath: String { directory + "/nats-server.pid" }

    /// `tls://host:port` once the server listens, for clients on this host (127.0.0.1 when the
    /// server listens everywhere).
    public func url() async throws -> String {
        let host = state.withLock { $0.configuration.host }
        return "tls://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(try await listeningPort())"
    }

    /// Waits (up to 10 s) until the server reports its port.
    public func listeningPort() async throws -> Int {
        for _ in 0..<500 {
            if let port = state.withLock({ $0.port }) { return port }
            try await Task.sleep(for: .milliseconds(20))
        }
        let output = state.withLock { $0.output }
        throw Failure(description: "nats-server did not start listening within 10 s:\n\(output.suffix(2000))")
    }

    /// Lets these agents connect (with their own certificates, to their own subjects only).
    public func allow(agentIDs: Set<String>) throws {
        try changeAgents { $0.formUnion(agentIDs) }
    }

    /// Stops letting these agents in (their VMs are gone).
    public func revoke(agentIDs: Set<String>) throws {
        try changeAgents { $0.subtract(agentIDs) }
    }

    /// Rewrites the configuration and reloads the server when the set of agents changed.
    private func changeAgents(_ change: (inout Set<String>) -> Void) throws {
        let (changed, process) = state.withLock { state -> (Bool, Process?) in
            let before = state.configuration.agentIDs
            change(&state.configuration.agentIDs)
            return (state.configuration.agentIDs != before, state.process)
        }
        guard changed else { return }
        try writeConfiguration()
        if let process, process.isRunning { kill(process.processIdentifier, SIGHUP) }
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try writeConfiguration()
        await stopLeftoverServer()
        var failuresInARow = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            let exit = try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await self.runOnce()
                } onGracefulShutdown: {
                    self.stop()
                }
            } onCancel: {
                self.stop()
            }
            if state.withLock({ $0.stopping }) || Task.isShuttingDownGracefully || Task.isCancelled { break }
            failuresInARow = ContinuousClock.now - started > .seconds(30) ? 1 : failuresInARow + 1
            let output = state.withLock { $0.output }
            logger.error(
                "nats-server exited; restarting",
                metadata: ["nats.exit_status": "\(exit)", "nats.output": "\(output.suffix(1000))"])
            try await Task.sleep(for: .milliseconds(200 * min(failuresInARow, 25)))
        }
    }

    /// Runs the server until it exits; returns its exit status.
    private func runOnce() async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", configurationPath]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let host = state.withLock { state in
            state.output = ""
            state.port = nil
            return state.configuration.host
        }
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self.state.withLock { state in
                state.output += String(decoding: data, as: UTF8.self)
                if state.output.count > 64 * 1024 { state.output = String(state.output.suffix(32 * 1024)) }
                if state.port == nil, let range = state.output.range(of: "Listening for client connections on \(host):") {
                    state.port = Int(state.output[range.upperBound...].prefix(while: \.isNumber))
                }
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                continuation.resume(returning: finished.terminationStatus)
            }
            do {
                try process.run()
                // A shutdown that came while the process was starting found nothing to stop.
                if state.withLock({ state in
                    state.process = process
                    return state.stopping
                }) {
                    process.terminate()
                }
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: Failure(description: "cannot start \(executable): \(error)"))
            }
        }
    }

    private func stop() {
        let process = state.withLock { state -> Process? in
            state.stopping = true
            return state.process
        }
        if let process, process.isRunning { process.terminate() }
    }

    /// A director killed with SIGKILL leaves its nats-server running, holding the port; the pid
    /// file names it, and its command line proves it is ours before it is stopped.
    private func stopLeftoverServer() async {
        guard let text = try? String(contentsOfFile: pidPath, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
            let commandLine = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            commandLine.split(separator: "\0").contains(where: { $0 == configurationPath })
        else { return }
        logger.warning("Stopping the nats-server a previous director run left behind", metadata: ["nats.pid": "\(pid)"])
        kill(pid, SIGTERM)
        for _ in 0..<100 {
            if kill(pid, 0) != 0 { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
    }

    /// Writes the current configuration. Writers take turns (deploys let agents in from many
    /// tasks at once), each through its own temporary file and a rename.
    private func writeConfiguration() throws {
        try writing.withLock { _ in
            let text = state.withLock { $0.configuration.rendered() }
            let temporary = configurationPath + ".tmp-" + UUID().uuidString
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            chmod(temporary, 0o600)
            if rename(temporary, configurationPath) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw Failure(description: "cannot write \(configurationPath): \(reason)")
            }
        }
    }
}

extension ManagedNATSServer {
    /// The server for a director's configuration: certificates from its CA with a SAN for the
    /// address agents use, files under `<state>/nats`; `agentIDs` are the agents of the VMs the
    /// director already has, so a restarted director hears them again.
    static func forDirector(
        _ configuration: DirectorConfiguration, certificates: NATSCertificates, agentIDs: Set<String>, logger: Logger
    ) throws -> ManagedNATSServer {
        let address = configuration.natsAddressForAgents
        return ManagedNATSServer(
            configuration: NATSServerConfiguration(
                host: configuration.listenHost(advertised: address), port: previousPort(configuration), certificatePath: certificates.serverCertificatePath,
                keyPath: certificates.serverKeyPath, caPath: certificates.caPath, agentIDs: agentIDs,
                maxPayloadBytes: configuration.natsMaxPayloadBytes),
            directory: configuration.natsDirectory, logger: logger)
    }
}

extension ManagedNATSServer {
    /// `nats.port: 0` picks a free port once: agents on running VMs were given it, so a restarted
    /// director listens on the port it announced last time.
    static func previousPort(_ configuration: DirectorConfiguration) -> Int {
        guard configuration.natsPort == 0,
            let url = try? String(contentsOfFile: configuration.natsDirectory + "/url", encoding: .utf8),
            let port = url.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { return configuration.natsPort }
        return port
    }
}

/// Tells the operator (log) and tools (`<state>/nats/url`) where the director's NATS listens, once
/// it does; then waits for shutdown.
struct NATSAnnouncement: Service {
    let server: ManagedNATSServer
    let directory: String
    let logger: Logger

    func run() async throws {
        let url = try await server.url()
        try url.write(toFile: directory + "/url", atomically: true, encoding: .utf8)
        logger.info("NATS listening", metadata: ["director.nats": "\(url)"])
        try? await gracefulShutdown()
    }
}
