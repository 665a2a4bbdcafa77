import BosunCore
import Foundation

/// The director's settings with their embedded defaults: SQLite in the state directory, the API on
/// port 25555 and the blobstore on 25250, as in BOSH. Read from `<state>/config.yml` when present:
///
/// ```yaml
/// name: bosun            # shown by `bosh env`
/// address: 127.0.0.1     # where the API and blobstore listen
/// port: 25555
/// blobstore_port: 25250
/// database: {url: postgres://user:password@host/db}   # SQLite in the state directory when absent
/// users: [{name: admin, password: …}]                 # generated on first start when absent
/// certificate_addresses: [10.0.0.6, director.example]  # extra SANs for the generated certificate
/// cpi: {path: /usr/local/bin/some-cpi, config: /etc/cpi.json, name: aws_cpi}  # the local CPI beside the director when absent
/// agent_address: 10.244.0.1   # the director as VMs reach it (NATS and blobstore); when it is not
///                              # `address`, both listen on every interface (TLS + credentials)
/// nats: {address: 10.244.0.1, port: 4222}  # the nats-server the director runs; agents connect to
///                                          # address (default: agent_address); port 0 picks a free one
///   max_payload_mb: 1                      # the largest NATS message (templates over NATS must fit);
///                                          # or max_payload in bytes
/// enable_nats_delivered_templates: true    # rendered templates go to agents over NATS, never the blobstore
/// blobstore: {enable_signed_urls: true}    # agents get pre-signed URLs per blob instead of credentials
/// agent: {env: {bosh: {job_dir: {tmpfs: true}}}}  # director-wide base of every VM's env.bosh
/// hm: {agent_timeout: 60, analysis_interval: 10, resurrector: true,   # the health monitor
///      minimum_down_jobs: 5, percent_threshold: 0.2, time_threshold: 600}
/// ```
public struct DirectorConfiguration: Sendable, Equatable {
    public var stateDirectory: String
    public var name: String
    public var address: String
    public var apiPort: Int
    public var blobstorePort: Int
    public var databaseURL: String?
    /// Name → password. Empty means "use the generated admin".
    public var users: [String: String]
    public var certificateAddresses: [String]
    /// An external CPI executable and the config file it is given with `-configPath`.
    public var cpiPath: String?
    public var cpiConfigPath: String?
    /// `cpi.name`: what `/info` reports as the CPI (BOSH reports its CPI job's name).
    public var configuredCPIName: String?

    /// `cpi.name`, else the CPI job's name for a BOSH job layout (`/var/vcap/jobs/<job>/bin/cpi`),
    /// else the executable's file name; `bosun-local-cpi` by default.
    public var cpiName: String {
        if let configuredCPIName { return configuredCPIName }
        guard let cpiPath else { return "bosun-local-cpi" }
        let parts = cpiPath.split(separator: "/").map(String.init)
        if parts.count >= 4, parts[parts.count - 2] == "bin", parts[parts.count - 4] == "jobs" {
            return parts[parts.count - 3]
        }
        return parts.last ?? cpiPath
    }
    /// The director's address as VMs reach it; nil means `address`.
    public var agentAddress: String?
    /// Where agents connect to the director's nats-server; nil means `agentAddress`.
    public var natsAddress: String?
    /// 0 lets the server pick a free port.
    public var natsPort: Int = 4222
    /// The NATS server's `max_payload` (`nats.max_payload_mb`).
    public var natsMaxPayloadBytes: Int = 1 << 20
    /// Rendered templates go to agents in an `upload_blob` over NATS instead of the blobstore.
    public var natsDeliveredTemplates = false
    /// Agents reach the blobstore only through pre-signed URLs (`blobstore.enable_signed_urls`) and
    /// are given no blobstore password.
    public var signedBlobURLs = false

    /// The blobstore as agents reach it.
    public var blobstoreEndpointForAgents: String { "https://\(addressForAgents):\(blobstorePort)" }
    /// `agent.env.bosh`: merged under each instance group's `env.bosh` when a VM is created
    /// (the group wins key by key); not part of the env compared between deploys.
    public var agentEnvBosh: JSONValue = [:]
    /// The health monitor and resurrector (`hm:`).
    public var healthMonitor = HealthMonitorSettings()
    /// How often orphaned VMs are looked for and deleted (`vms.cleanup_interval`, seconds).
    public var orphanedVMCleanupInterval: Duration = .seconds(300)
    /// Orphaned disks older than this are deleted by the cleanup (`disks.max_orphaned_age_in_days`).
    public var orphanedDiskMaxAgeSeconds: Double = 5 * 86_400

    public init(
        stateDirectory: String, name: String = "bosun", address: String = "127.0.0.1", apiPort: Int = 25555,
        blobstorePort: Int = 25250, databaseURL: String? = nil, users: [String: String] = [:],
        certificateAddresses: [String] = []
    ) {
        self.stateDirectory = stateDirectory
        self.name = name
        self.address = address
        self.apiPort = apiPort
        self.blobstorePort = blobstorePort
        self.databaseURL = databaseURL
        self.users = users
        self.certificateAddresses = certificateAddresses
    }

    public var databasePath: String { stateDirectory + "/director.sqlite" }
    /// The director as agents see it.
    public var addressForAgents: String { agentAddress ?? address }
    /// Where agents reach NATS.
    public var natsAddressForAgents: String { natsAddress ?? addressForAgents }
    /// Where a service agents use listens: its own address when that is the API's, else everywhere.
    public func listenHost(advertised: String) -> String { advertised == address ? address : "0.0.0.0" }
    public var certificatesDirectory: String { stateDirectory + "/certs" }
    public var blobstoreDirectory: String { stateDirectory + "/blobstore" }
    public var tasksDirectory: String { stateDirectory + "/tasks" }
    /// The managed nats-server's configuration and the `url` it listens on.
    public var natsDirectory: String { stateDirectory + "/nats" }
    /// Uploads in progress (release and stemcell tarballs) until their task has read them.
    public var uploadsDirectory: String { stateDirectory + "/uploads" }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads `config.yml` from the state directory (if there is one) over the defaults; every
    /// problem names its key.
    public static func load(stateDirectory: String) throws -> DirectorConfiguration {
        var configuration = DirectorConfiguration(stateDirectory: stateDirectory)
        let path = stateDirectory + "/config.yml"
        // A missing file means the defaults; one that is there is read strictly (bad UTF-8 named).
        guard let data = FileManager.default.contents(atPath: path) else { return configuration }
        let yaml = try YAMLValue.parse(bytes: data, source: path)
        guard case .map = yaml else {
            if yaml.isNull { return configuration }
            throw Invalid(description: "\(path): expected a map of settings")
        }
        func string(_ key: String) throws -> String? {
            switch yaml[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case let other?: throw Invalid(description: "\(path): \(key) must be a string, found \(other.goTypeName)")
            }
        }
        func port(_ key: String, in map: YAMLValue? = nil, named name: String? = nil) throws -> Int? {
            switch (map ?? yaml)[key] {
            case nil, .null?: return nil
            case .int(let value)? where (0...65535).contains(value): return value
            case let other?:
                throw Invalid(
                    description: "\(path): \(name ?? key) must be a port number, found \(other.goDisplayString)")
            }
        }
        if let name = try string("name") { configuration.name = name }
        if let address = try string("address") { configuration.address = address }
        if let address = try string("agent_address") { configuration.agentAddress = address }
        if let port = try port("port") { configuration.apiPort = port }
        if let port = try port("blobstore_port") { configuration.blobstorePort = port }
        if case .string(let url)? = yaml["database"]?["url"] { configuration.databaseURL = url }
        if case .array(let users)? = yaml["users"] {
            for (index, user) in users.enumerated() {
                guard let name = user["name"]?.stringValue, let password = user["password"]?.stringValue, !name.isEmpty
                else {
                    throw Invalid(description: "\(path): users[\(index)] needs a name and a password")
                }
                configuration.users[name] = password
            }
        }
        if case .string(let path)? = yaml["cpi"]?["path"] { configuration.cpiPath = path }
        if case .string(let name)? = yaml["cpi"]?["name"] { configuration.configuredCPIName = name }
        if case .string(let path)? = yaml["cpi"]?["config"] { configuration.cpiConfigPath = path }
        if let nats = yaml["nats"], !nats.isNull {
            guard case .map = nats else { throw Invalid(description: "\(path): nats must be a map (address, port)") }
            switch nats["address"] {
            case nil, .null?: break
            case .string(let address)?: configuration.natsAddress = address
            case let other?:
                throw Invalid(description: "\(path): nats.address must be a string, found \(other.goTypeName)")
            }
            if let port = try port("port", in: nats, named: "nats.port") { configuration.natsPort = port }
            switch nats["max_payload_mb"] {
            case nil, .null?: break
            case .int(let mb)? where (1...64).contains(mb): configuration.natsMaxPayloadBytes = mb << 20
            case let other?:
                throw Invalid(
                    description: "\(path): nats.max_payload_mb must be 1 to 64, found \(other.goDisplayString)")
            }
            // In bytes, as nats-server spells it; wins over max_payload_mb.
            switch nats["max_payload"] {
            case nil, .null?: break
            case .int(let bytes)? where (1024...(64 << 20)).contains(bytes): configuration.natsMaxPayloadBytes = bytes
            case let other?:
                throw Invalid(
                    description:
                        "\(path): nats.max_payload must be 1024 to 67108864 bytes, found \(other.goDisplayString)")
            }
        }
        if let vms = yaml["vms"] {
            switch vms["cleanup_interval"] {
            case nil, .null?: break
            case .int(let seconds)? where seconds > 0: configuration.orphanedVMCleanupInterval = .seconds(seconds)
            case let other?:
                throw Invalid(
                    description:
                        "\(path): vms.cleanup_interval must be a positive number of seconds, found \(other.goDisplayString)"
                )
            }
        }
        if let disks = yaml["disks"] {
            switch disks["max_orphaned_age_in_days"] {
            case nil, .null?: break
            case .int(let days)? where days >= 0: configuration.orphanedDiskMaxAgeSeconds = Double(days) * 86_400
            case .float(let days)? where days >= 0: configuration.orphanedDiskMaxAgeSeconds = days * 86_400
            case .uint(let days)?: configuration.orphanedDiskMaxAgeSeconds = Double(days) * 86_400
            case let other?:
                throw Invalid(
                    description:
                        "\(path): disks.max_orphaned_age_in_days must be a number of days (0 or more), found \(other.goDisplayString)"
                )
            }
        }
        switch yaml["enable_nats_delivered_templates"] {
        case nil, .null?: break
        case .bool(let on)?: configuration.natsDeliveredTemplates = on
        case let other?:
            throw Invalid(
                description:
                    "\(path): enable_nats_delivered_templates must be true or false, found \(other.goDisplayString)")
        }
        switch yaml["blobstore"]?["enable_signed_urls"] {
        case nil, .null?: break
        case .bool(let on)?: configuration.signedBlobURLs = on
        case let other?:
            throw Invalid(
                description:
                    "\(path): blobstore.enable_signed_urls must be true or false, found \(other.goDisplayString)")
        }
        if let agent = yaml["agent"], !agent.isNull {
            switch agent["env"]?["bosh"] {
            case nil, .null?: break
            case .map(let bosh)?: configuration.agentEnvBosh = JSONValue(yaml: .map(bosh))
            case let other?:
                throw Invalid(description: "\(path): agent.env.bosh must be a map, found \(other.goTypeName)")
            }
        }
        if let hm = yaml["hm"], !hm.isNull {
            configuration.healthMonitor = try HealthMonitorSettings(hm, path: path)
        }
        if case .array(let addresses)? = yaml["certificate_addresses"] {
            configuration.certificateAddresses = addresses.compactMap(\.stringValue)
        }
        return configuration
    }
}
