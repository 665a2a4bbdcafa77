import BosunCore
import Foundation

/// Settings of the local CPI, read from the config file the director passes (`-configPath` or
/// `BOSUN_LOCAL_CPI_CONFIG`), YAML or JSON:
///
/// ```yaml
/// work_dir: /var/lib/bosun/local-cpi     # VMs, disks, stemcells
/// bridge: bosun0                         # created if missing
/// runtime: runc                          # or crun
/// agent_path: /usr/local/bin/bosun-agent # bind-mounted read-only into every VM
/// max_vms: 100                           # reported by info for surge checks
/// mbus: nats://10.244.0.1:4222           # agents' NATS URL unless env.bosh.mbus.urls says otherwise
/// blobstore: {provider: dav, options: {endpoint: "https://10.244.0.1:25250"}}
/// agent_heartbeat_seconds: 30            # how often agents heartbeat (tests of the health monitor)
/// ```
public struct LocalCPIConfiguration: Sendable, Equatable {
    public var workDirectory: String
    public var bridgeName: String
    public var runtime: String
    public var agentPath: String
    public var maxVMs: Int
    /// Where the OCI runtime keeps container state; on tmpfs, so it is gone after a host reboot.
    public var runtimeRoot: String
    /// Default agent settings: NATS URL and blobstore, as a CPI config would carry them.
    public var mbus: String?
    public var blobstore: JSONValue?
    /// `move_address: false` turns the extension off, to see what the director does with a CPI
    /// that cannot move addresses (as most cannot).
    public var movesAddresses = true
    /// The agents' heartbeat interval; nil leaves the agent's 30 s.
    public var agentHeartbeatSeconds: Double?

    public init(
        workDirectory: String, bridgeName: String = "bosun0", runtime: String = "runc",
        agentPath: String = "/usr/local/bin/bosun-agent", maxVMs: Int = 100, runtimeRoot: String? = nil,
        mbus: String? = nil, blobstore: JSONValue? = nil
    ) {
        self.workDirectory = workDirectory
        self.bridgeName = bridgeName
        self.runtime = runtime
        self.agentPath = agentPath
        self.maxVMs = maxVMs
        self.runtimeRoot = runtimeRoot ?? "/run/bosun-local-cpi/" + String(workDirectory.hashValueStable, radix: 16)
        self.mbus = mbus
        self.blobstore = blobstore
    }

    public struct InvalidError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(file path: String) throws(InvalidError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidError(description: "cannot read local CPI config '\(path)'")
        }
        let document: YAMLValue
        do {
            document = try YAMLValue.parse(String(decoding: data, as: UTF8.self), source: path)
        } catch {
            throw InvalidError(description: error.description)
        }
        guard case .string(let workDirectory)? = document["work_dir"], workDirectory.hasPrefix("/") else {
            throw InvalidError(description: "\(path): work_dir is required and must be an absolute path")
        }
        func text(_ key: String) -> String? { document[key]?.stringValue }
        var maxVMs = 100
        if case .int(let value)? = document["max_vms"] { maxVMs = value }
        let runtime = text("runtime") ?? "runc"
        guard runtime == "runc" || runtime == "crun" else {
            throw InvalidError(description: "\(path): runtime must be runc or crun, got \(runtime)")
        }
        self.init(
            workDirectory: workDirectory, bridgeName: text("bridge") ?? "bosun0", runtime: runtime,
            agentPath: text("agent_path") ?? "/usr/local/bin/bosun-agent", maxVMs: maxVMs,
            runtimeRoot: text("runtime_root"), mbus: text("mbus"),
            blobstore: document["blobstore"].map(JSONValue.init(yaml:)))
        switch document["agent_heartbeat_seconds"] {
        case nil, .null?: break
        case .int(let seconds)? where seconds > 0: agentHeartbeatSeconds = Double(seconds)
        case .float(let seconds)? where seconds > 0: agentHeartbeatSeconds = seconds
        case .uint(let seconds)?: agentHeartbeatSeconds = Double(seconds)
        case let other?:
            throw InvalidError(
                description: "\(path): agent_heartbeat_seconds must be a positive number, got \(other.goDisplayString)")
        }
        switch document["move_address"] {
        case nil, .null?: break
        case .bool(let value)?: movesAddresses = value
        case let other?:
            throw InvalidError(description: "\(path): move_address must be true or false, got \(other.goDisplayString)")
        }
    }
}

extension String {
    /// A hash that does not change between processes (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
