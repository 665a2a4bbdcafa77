import AgentProtocol
import BosunCore
import Foundation
import Logging
import NATS

/// How the agent starts on a VM.
public struct AgentConfiguration: Sendable {
    public var paths: AgentPaths
    /// The settings the CPI wrote; by default `bosh/settings.json` under the root.
    public var settingsFileOverride: String?
    public var settingsFile: String { settingsFileOverride ?? paths.settings }
    /// Off only where the agent runs without privileges to mount (tests outside a VM).
    public var mountFilesystems: Bool
    public var heartbeatInterval: Duration
    /// How often log sizes are checked against the rotation limit.
    public var logRotationInterval: Duration
    /// How often the agent drops its cold code pages from its resident set (`ResidentSetTrimming`);
    /// nil: never.
    public var trimInterval: Duration?

    public init(
        paths: AgentPaths = AgentPaths(), settingsFile: String? = nil, mountFilesystems: Bool = true,
        heartbeatInterval: Duration = .seconds(30), logRotationInterval: Duration = .seconds(60), trimInterval: Duration? = .seconds(60)
    ) {
        self.trimInterval = trimInterval
        self.paths = paths
        self.settingsFileOverride = settingsFile
        self.mountFilesystems = mountFilesystems
        self.heartbeatInterval = heartbeatInterval
        self.logRotationInterval = logRotationInterval
    }
}

/// Start-up: read the settings, lay out `/var/vcap`, mount the tmpfs the env asks for, and prepare
/// the NATS client with the agent's own certificate.
public enum AgentBootstrap {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func prepare(_ configuration: AgentConfiguration, logger: Logger) throws(Failure) -> (NATSClient, AgentService) {
        let settings = try loadSettings(configuration.settingsFile)
        let paths = configuration.paths
        do {
            try layOut(paths, settings: settings, mount: configuration.mountFilesystems)
        } catch {
            throw Failure(description: error.description)
        }
        let nats = try natsClient(settings: settings, paths: paths, logger: logger)
        let context = AgentContext(settings: settings, paths: paths, nats: nats, logger: logger)
        return (nats, AgentService(
            context: context, logger: logger, heartbeatInterval: configuration.heartbeatInterval,
            logRotationInterval: configuration.logRotationInterval, trimInterval: configuration.trimInterval))
    }

    static func loadSettings(_ path: String) throws(Failure) -> AgentSettings {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "Cannot read agent settings '\(path)'")
        }
        do {
            return try JSONCoding.decoder.decode(AgentSettings.self, from: data)
        } catch {
            throw Failure(description: "Agent settings '\(path)' are not valid: \(error)")
        }
    }

    /// Directories of §7.7, then the tmpfs mounts: `sys/run` always; the job directory and
    /// sensitive blobs with `env.bosh.job_dir.tmpfs`; the agent's settings with `agent.settings.tmpfs`.
    static func layOut(_ paths: AgentPaths, settings: AgentSettings, mount: Bool) throws(Filesystem.Failure) {
        for directory in [paths.bosh, paths.log, paths.settingsDirectory, paths.data, paths.dataJobs, paths.dataPackages,
            paths.sensitiveBlobs, paths.sysLog, paths.sysRun, paths.jobs, paths.packages, paths.store, paths.monit,
            paths.instance, paths.data + "/tmp", paths.data + "/blobs"]
        {
            try Filesystem.makeDirectory(directory, mode: 0o750)
        }
        let link = paths.root + "/sys"
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == nil {
            try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: paths.sys)
        }
        guard mount else { return }
        let bosh = settings.env["bosh"]
        try Filesystem.mountTmpfs(at: paths.sysRun, size: bosh?["run_dir"]?["tmpfs_size"]?.stringValue ?? "16m")
        if bosh?["job_dir"]?["tmpfs"] == true {
            let size = bosh?["job_dir"]?["tmpfs_size"]?.stringValue ?? "100m"
            try Filesystem.mountTmpfs(at: paths.dataJobs, size: size)
            try Filesystem.mountTmpfs(at: paths.sensitiveBlobs, size: size, mode: "0700")
        }
        if bosh?["agent"]?["settings"]?["tmpfs"] == true {
            try Filesystem.mountTmpfs(at: paths.settingsDirectory, size: "16m", mode: "0700")
        }
    }

    /// NATS over mutual TLS with the certificate from `env.bosh.mbus.cert` (written, 0600, into the
    /// settings directory — a tmpfs when asked), reconnecting forever with BOSH's agent back-off.
    static func natsClient(settings: AgentSettings, paths: AgentPaths, logger: Logger) throws(Failure) -> NATSClient {
        let urls = (settings.env["bosh"]?["mbus"]?["urls"]).flatMap { value -> [String]? in
            guard case .array(let items) = value else { return nil }
            return items.compactMap(\.stringValue)
        } ?? [settings.mbus]
        let servers = urls.compactMap(URL.init(string:))
        guard !servers.isEmpty else { throw Failure(description: "Agent settings name no NATS server (mbus)") }
        var configuration = NATSClientConfiguration(
            servers: servers, name: "agent-" + settings.agentID, reconnectDelay: .seconds(1), maxReconnectDelay: .seconds(5))
        // A certificate from update_settings (rotation) wins over the one the VM was created with.
        let updated = FileManager.default.contents(atPath: UpdateSettingsAction.file(paths))
            .flatMap { try? JSONCoding.decoder.decode(JSONValue.self, from: $0) }?["mbus"]?["cert"]
        if let cert = updated ?? settings.env["bosh"]?["mbus"]?["cert"], let ca = cert["ca"]?.stringValue {
            let directory = paths.settingsDirectory
            func write(_ name: String, _ text: String?) throws(Failure) -> String? {
                guard let text else { return nil }
                let path = directory + "/" + name
                do {
                    try Filesystem.writePrivately(Data(text.utf8), to: path)
                } catch {
                    throw Failure(description: "Cannot write \(path)")
                }
                return path
            }
            configuration.tls = .init(
                caFile: try write("mbus-ca.pem", ca)!, certificateFile: try write("mbus-cert.pem", cert["certificate"]?.stringValue),
                privateKeyFile: try write("mbus-key.pem", cert["private_key"]?.stringValue))
        }
        do {
            return try NATSClient(configuration: configuration, logger: logger)
        } catch {
            throw Failure(description: "NATS: \(error)")
        }
    }
}
