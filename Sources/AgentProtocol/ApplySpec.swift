import BosunCore

/// A package or job blob: `{name, version, sha1, blobstore_id}`.
public struct BlobReference: Codable, Sendable, Hashable {
    public var name: String
    public var version: String
    public var sha1: String
    public var blobstoreID: String
    /// A pre-signed URL for an agent without blobstore credentials; made when the spec is sent.
    public var signedURL: String?

    public init(name: String, version: String, sha1: String, blobstoreID: String, signedURL: String? = nil) {
        self.name = name
        self.version = version
        self.sha1 = sha1
        self.blobstoreID = blobstoreID
        self.signedURL = signedURL
    }

    enum CodingKeys: String, CodingKey {
        case name, version, sha1
        case signedURL = "signed_url"
        case blobstoreID = "blobstore_id"
        case packageGetSignedURL = "package_get_signed_url"
    }

    /// Reads the apply spec's `signed_url`, or a signed compile dependency's
    /// `package_get_signed_url`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decode(String.self, forKey: .version)
        sha1 = try container.decode(String.self, forKey: .sha1)
        blobstoreID = try container.decode(String.self, forKey: .blobstoreID)
        signedURL =
            try container.decodeIfPresent(String.self, forKey: .signedURL)
            ?? container.decodeIfPresent(String.self, forKey: .packageGetSignedURL)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(version, forKey: .version)
        try container.encode(sha1, forKey: .sha1)
        try container.encode(blobstoreID, forKey: .blobstoreID)
        try container.encodeIfPresent(signedURL, forKey: .signedURL)
    }
}

/// What the director asks an agent to run (`apply`/`prepare`), reference §7.5. It carries no job
/// properties, so the agent's saved `spec.json` holds no secrets.
public struct ApplySpec: Codable, Sendable, Equatable {
    public var deployment: String
    public var job: Job
    public var index: Int
    public var name: String
    public var id: String
    public var az: String?
    public var networks: [String: NetworkSettings]
    public var packages: [String: BlobReference]
    public var dnsDomainName: String?
    /// Empty means "install nothing, just save the spec".
    public var configurationHash: String?
    /// Megabytes; 0 when the instance has no persistent disk.
    public var persistentDisk: Int
    public var templateHashes: [String: String]?
    public var renderedTemplatesArchive: RenderedTemplatesArchive?

    public struct Job: Codable, Sendable, Equatable {
        public var name: String
        public var templates: [BlobReference]
        /// BOSH's legacy single-job fields, set for errand groups: the Go bosh-agent's
        /// `run_errand` runs `template`'s `bin/run`, whatever name it is sent, and refuses without
        /// one ("At least one job template is required to run an errand").
        public var template: String?
        public var version: String?

        public init(name: String, templates: [BlobReference], template: String? = nil, version: String? = nil) {
            self.name = name
            self.templates = templates
            self.template = template
            self.version = version
        }
    }

    public struct RenderedTemplatesArchive: Codable, Sendable, Equatable {
        public var blobstoreID: String
        public var sha1: String
        /// A pre-signed URL (Bosun sends one, BOSH does not; see ``BlobReference/signedURL``).
        public var signedURL: String?

        public init(blobstoreID: String, sha1: String, signedURL: String? = nil) {
            self.blobstoreID = blobstoreID
            self.sha1 = sha1
            self.signedURL = signedURL
        }

        enum CodingKeys: String, CodingKey {
            case signedURL = "signed_url"
            case blobstoreID = "blobstore_id"
            case sha1
        }
    }

    public init(
        deployment: String, job: Job, index: Int, name: String, id: String, az: String?,
        networks: [String: NetworkSettings], packages: [String: BlobReference], dnsDomainName: String? = nil,
        configurationHash: String?, persistentDisk: Int, templateHashes: [String: String]? = nil,
        renderedTemplatesArchive: RenderedTemplatesArchive?
    ) {
        self.deployment = deployment
        self.job = job
        self.index = index
        self.name = name
        self.id = id
        self.az = az
        self.networks = networks
        self.packages = packages
        self.dnsDomainName = dnsDomainName
        self.configurationHash = configurationHash
        self.persistentDisk = persistentDisk
        self.templateHashes = templateHashes
        self.renderedTemplatesArchive = renderedTemplatesArchive
    }

    enum CodingKeys: String, CodingKey {
        case deployment, job, index, name, id, az, networks, packages
        case dnsDomainName = "dns_domain_name"
        case configurationHash = "configuration_hash"
        case persistentDisk = "persistent_disk"
        case templateHashes = "template_hashes"
        case renderedTemplatesArchive = "rendered_templates_archive"
    }
}

/// One network of a VM, in the apply spec and in agent settings.
public struct NetworkSettings: Codable, Sendable, Equatable {
    /// `manual`, `dynamic` or `vip`.
    public var type: String
    public var ip: String?
    public var netmask: String?
    public var gateway: String?
    public var dns: [String]?
    /// `dns`, `gateway` when this network provides them.
    public var `default`: [String]?
    public var cloudProperties: JSONValue
    public var mac: String?

    public init(
        type: String, ip: String?, netmask: String?, gateway: String?, dns: [String]?, default: [String]?,
        cloudProperties: JSONValue = [:], mac: String? = nil
    ) {
        self.type = type
        self.ip = ip
        self.netmask = netmask
        self.gateway = gateway
        self.dns = dns
        self.default = `default`
        self.cloudProperties = cloudProperties
        self.mac = mac
    }

    enum CodingKeys: String, CodingKey {
        case type, ip, netmask, gateway, dns, `default`, mac
        case cloudProperties = "cloud_properties"
    }

    /// CPIs often leave out `type` (manual) and `cloud_properties` ({}); both are read leniently.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? "manual"
        ip = try container.decodeIfPresent(String.self, forKey: .ip)
        netmask = try container.decodeIfPresent(String.self, forKey: .netmask)
        gateway = try container.decodeIfPresent(String.self, forKey: .gateway)
        dns = try container.decodeIfPresent([String].self, forKey: .dns)
        `default` = try container.decodeIfPresent([String].self, forKey: .default)
        cloudProperties = try container.decodeIfPresent(JSONValue.self, forKey: .cloudProperties) ?? [:]
        mac = try container.decodeIfPresent(String.self, forKey: .mac)
    }
}

/// The settings a CPI hands to a new VM's agent (reference §6.4).
public struct AgentSettings: Codable, Sendable, Equatable {
    public var agentID: String
    public var vm: VM
    public var mbus: String
    public var ntp: [String]
    public var networks: [String: NetworkSettings]
    public var disks: Disks
    /// The `create_vm` env as given, including `bosh.*` (tmpfs knobs, mbus certificate).
    public var env: JSONValue
    public var blobstore: JSONValue?

    public struct VM: Codable, Sendable, Equatable {
        public var name: String
        public var id: String?

        public init(name: String, id: String? = nil) {
            self.name = name
            self.id = id
        }
    }

    public struct Disks: Codable, Sendable, Equatable {
        public var system: String?
        public var ephemeral: JSONValue?
        /// Persistent disk CID → hint (empty at creation; `add_persistent_disk` adds them).
        public var persistent: [String: JSONValue]
        public var rawEphemeral: JSONValue?

        public init(
            system: String? = nil, ephemeral: JSONValue? = nil, persistent: [String: JSONValue] = [:],
            rawEphemeral: JSONValue? = nil
        ) {
            self.system = system
            self.ephemeral = ephemeral
            self.persistent = persistent
            self.rawEphemeral = rawEphemeral
        }

        enum CodingKeys: String, CodingKey {
            case system, ephemeral, persistent
            case rawEphemeral = "raw_ephemeral"
        }
    }

    public init(
        agentID: String, vm: VM, mbus: String, ntp: [String] = [], networks: [String: NetworkSettings], disks: Disks,
        env: JSONValue, blobstore: JSONValue? = nil
    ) {
        self.agentID = agentID
        self.vm = vm
        self.mbus = mbus
        self.ntp = ntp
        self.networks = networks
        self.disks = disks
        self.env = env
        self.blobstore = blobstore
    }

    enum CodingKeys: String, CodingKey {
        case vm, mbus, ntp, networks, disks, env, blobstore
        case agentID = "agent_id"
    }
}
