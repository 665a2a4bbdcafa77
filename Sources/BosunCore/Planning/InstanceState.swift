/// What a VM was created with. When the desired description differs, the VM is replaced.
public struct VMDescription: Sendable, Hashable, Codable {
    /// `<stemcell name>/<version>`.
    public var stemcell: String
    /// AZ, VM type and VM extension cloud properties merged in that order.
    public var cloudProperties: JSONValue
    /// The instance group's `env`.
    public var env: JSONValue

    public init(stemcell: String, cloudProperties: JSONValue, env: JSONValue) {
        self.stemcell = stemcell
        self.cloudProperties = cloudProperties
        self.env = env
    }

    enum CodingKeys: String, CodingKey {
        case stemcell, env
        case cloudProperties = "cloud_properties"
    }
}

/// The persistent disk an instance should have: size in MB and the disk type's cloud properties.
public struct DiskRequirement: Sendable, Hashable, Codable {
    public var sizeMB: Int
    public var cloudProperties: JSONValue

    public init(sizeMB: Int, cloudProperties: JSONValue) {
        self.sizeMB = sizeMB
        self.cloudProperties = cloudProperties
    }

    enum CodingKeys: String, CodingKey {
        case sizeMB = "size"
        case cloudProperties = "cloud_properties"
    }
}

/// An instance as the director's database knows it: the planner's view of the actual state.
public struct ActualInstance: Sendable, Hashable {
    public var group: String
    public var index: Int
    /// The instance's UUID, stable for its whole life.
    public var id: String
    public var az: String?
    public var bootstrap: Bool
    /// Addresses it holds, by network name.
    public var ips: [String: IPv4Address]
    /// Nil when the instance has no VM (a failed create, or deleted by `stop --hard`).
    public var vm: VMDescription?
    public var persistentDisk: DiskRequirement?

    public init(
        group: String, index: Int, id: String, az: String?, bootstrap: Bool, ips: [String: IPv4Address],
        vm: VMDescription?, persistentDisk: DiskRequirement?
    ) {
        self.group = group
        self.index = index
        self.id = id
        self.az = az
        self.bootstrap = bootstrap
        self.ips = ips
        self.vm = vm
        self.persistentDisk = persistentDisk
    }

    /// `group/id (index)`, as BOSH names instances in messages.
    public var displayName: String { "\(group)/\(id) (\(index))" }
}

/// Why an instance is touched by a deploy; the descriptions are what the task log shows.
public enum ChangeReason: Sendable, Hashable, CustomStringConvertible {
    case created
    case missingVM
    case stemcellChanged(from: String, to: String)
    case cloudPropertiesChanged
    case envChanged
    /// The tmpfs knobs of `env.bosh` (directly or through `features.use_tmpfs_config`) changed:
    /// which of `job_dir.tmpfs`, `job_dir.tmpfs_size`, `agent.settings.tmpfs`, from what to what.
    case tmpfsChanged(String)
    case networksChanged
    case persistentDiskChanged(fromMB: Int, toMB: Int)
    /// `deploy --recreate-persistent-disks`: a new disk of the same kind, the data migrated.
    case persistentDiskRecreateRequested
    case recreateRequested
    /// Rendered jobs or packages differ from what the instance runs (known after rendering).
    case configurationChanged

    public var description: String {
        switch self {
        case .created: "new instance"
        case .missingVM: "no VM"
        case .stemcellChanged(let from, let to): "stemcell changed (\(from) -> \(to))"
        case .cloudPropertiesChanged: "cloud properties changed"
        case .envChanged: "env changed"
        case .tmpfsChanged(let detail): "tmpfs changed (\(detail))"
        case .networksChanged: "networks changed"
        case .persistentDiskChanged(let from, let to): "persistent disk changed (\(from) MB -> \(to) MB)"
        case .persistentDiskRecreateRequested: "persistent disk recreate requested"
        case .recreateRequested: "recreate requested"
        case .configurationChanged: "configuration changed"
        }
    }

    /// Whether this reason means a new persistent disk the data is migrated to.
    public var replacesDisk: Bool {
        switch self {
        case .persistentDiskChanged, .persistentDiskRecreateRequested: true
        default: false
        }
    }

    /// Whether this reason alone means the VM is replaced.
    public var replacesVM: Bool {
        switch self {
        case .stemcellChanged, .cloudPropertiesChanged, .envChanged, .tmpfsChanged, .networksChanged, .recreateRequested: true
        case .created, .missingVM, .persistentDiskChanged, .persistentDiskRecreateRequested, .configurationChanged: false
        }
    }
}
