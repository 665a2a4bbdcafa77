/// One `instance_groups[]` entry of a deployment manifest.
public struct InstanceGroup: Sendable {
    public enum Lifecycle: String, Sendable, CaseIterable {
        case service, errand
    }

    public struct Job: Sendable, Hashable {
        public var name: String
        public var release: String
        /// Job-level properties; when present, the group's `properties` are ignored for this job.
        public var properties: YAMLValue?
        public var consumes: YAMLValue
        public var provides: YAMLValue
        public var customProviderDefinitions: YAMLValue
    }

    public struct Network: Sendable, Hashable {
        public var name: String
        public var staticIPs: [IPv4Address]
        /// `dns`, `gateway` (and `addressable`) when this network provides them for the VM.
        public var defaults: [String]
    }

    public struct NamedDisk: Sendable, Hashable {
        public var name: String
        public var type: String
    }

    public struct MigratedFrom: Sendable, Hashable {
        public var name: String
        public var az: String?
    }

    public var name: String
    public var azs: [String]
    public var instances: Int
    public var jobs: [Job]
    public var vmType: String?
    public var vmResources: VMResources?
    public var vmExtensions: [String]
    public var stemcell: String
    /// Megabytes; nil or 0 means no managed disk.
    public var persistentDisk: Int?
    public var persistentDiskType: String?
    public var persistentDisks: [NamedDisk]
    public var networks: [Network]
    public var updateOverrides: UpdateOverrides
    /// The deployment's `update` block with this group's overrides applied.
    public var update: UpdatePolicy?
    public var migratedFrom: [MigratedFrom]
    public var lifecycle: Lifecycle
    public var properties: YAMLValue
    public var tags: [String: String]
    public var env: AgentEnvironment

    /// What an instance group needs from the rest of the manifest to validate itself.
    struct Context {
        var releaseNames: Set<String>
        var stemcellAliases: Set<String>
        var deploymentUpdate: UpdateOverrides
        var features: DeploymentManifest.Features
    }

    static func read(_ node: ManifestNode, context: Context) -> InstanceGroup {
        node.map(required: true)
        let name = node["name"].string(required: true) ?? ""
        let instances = node["instances"].int(required: true, minimum: 0) ?? 0
        let jobs = readJobs(node["jobs"], releaseNames: context.releaseNames)

        let vmType = node["vm_type"].string()
        let vmResources = VMResources.read(node["vm_resources"])
        if vmType == nil && vmResources == nil { node["vm_type"].problem("is required (or give vm_resources)") }
        if vmType != nil && vmResources != nil { node["vm_resources"].problem("give either vm_type or vm_resources, not both") }

        let stemcell = node["stemcell"].string(required: true) ?? ""
        if !stemcell.isEmpty && !context.stemcellAliases.contains(stemcell) {
            node["stemcell"].problem("unknown stemcell alias \"\(stemcell)\" (stemcells define: \(context.stemcellAliases.sorted().joined(separator: ", ")))")
        }

        let persistentDisk = node["persistent_disk"].int(minimum: 0)
        let persistentDiskType = node["persistent_disk_type"].string()
        if persistentDisk != nil && persistentDiskType != nil {
            node["persistent_disk_type"].problem("give either persistent_disk or persistent_disk_type, not both")
        }
        let diskNodes = node["persistent_disks"].list()
        let disks = diskNodes.map {
            NamedDisk(name: $0["name"].string(required: true) ?? "", type: $0["type"].string(required: true) ?? "")
        }
        reportDuplicateNames(zip(disks.map(\.name), diskNodes).map { ($0, $1) }, what: "persistent disk")
        if !disks.isEmpty && (persistentDisk != nil || persistentDiskType != nil) {
            node["persistent_disks"].problem("cannot be combined with persistent_disk or persistent_disk_type")
        }

        let networks = readNetworks(node["networks"], instances: instances)
        let overrides = UpdateOverrides.read(node["update"], requireCore: false)
        let migrated = node["migrated_from"].list().map {
            MigratedFrom(name: $0["name"].string(required: true) ?? "", az: $0["az"].string())
        }

        return InstanceGroup(
            name: name, azs: node["azs"].strings(), instances: instances, jobs: jobs, vmType: vmType,
            vmResources: vmResources, vmExtensions: node["vm_extensions"].strings(), stemcell: stemcell,
            persistentDisk: persistentDisk, persistentDiskType: persistentDiskType, persistentDisks: disks,
            networks: networks, updateOverrides: overrides,
            update: UpdatePolicy.resolve(context.deploymentUpdate, overrides), migratedFrom: migrated,
            lifecycle: node["lifecycle"].choice(Lifecycle.self) ?? .service, properties: node["properties"].freeform(),
            tags: DeploymentManifest.readTags(node["tags"]),
            env: AgentEnvironment.read(node["env"], useTmpfsConfig: context.features.useTmpfsConfig))
    }

    private static func readJobs(_ node: ManifestNode, releaseNames: Set<String>) -> [Job] {
        let nodes = node.list(required: true)
        let jobs = nodes.map { item -> Job in
            item.map(required: true)
            let release = item["release"].string(required: true) ?? ""
            if !release.isEmpty && !releaseNames.isEmpty && !releaseNames.contains(release) {
                item["release"].problem("release \"\(release)\" is not listed under releases")
            }
            let properties = item["properties"]
            return Job(
                name: item["name"].string(required: true) ?? "", release: release,
                properties: properties.isMissing ? nil : properties.freeform(), consumes: item["consumes"].value ?? .null,
                provides: item["provides"].value ?? .null,
                customProviderDefinitions: item["custom_provider_definitions"].value ?? .null)
        }
        reportDuplicateNames(zip(jobs.map(\.name), nodes).map { ($0, $1) }, what: "job")
        return jobs
    }

    private static func readNetworks(_ node: ManifestNode, instances: Int) -> [Network] {
        let nodes = node.list(required: true)
        if nodes.isEmpty && !node.isMissing { node.problem("must list at least one network") }
        let networks = nodes.map { item -> Network in
            var ips: [IPv4Address] = []
            let ipNodes = item["static_ips"].list()
            for ipNode in ipNodes {
                guard let text = ipNode.string(required: true) else { continue }
                var set = IPv4RangeSet()
                do throws(IPv4RangeSet.ParseError) {
                    try set.insert(parsing: text)
                    ips.append(contentsOf: set.addresses)
                } catch {
                    ipNode.problem(error.description)
                }
            }
            if !ipNodes.isEmpty && ips.count != instances {
                item["static_ips"].problem("has \(ips.count) address\(ips.count == 1 ? "" : "es") for \(instances) instance\(instances == 1 ? "" : "s"); every instance needs exactly one")
            }
            let defaults = item["default"].strings()
            for value in defaults where !["dns", "gateway", "addressable"].contains(value) {
                item["default"].problem("expected dns, gateway or addressable, got \"\(value)\"")
            }
            return Network(name: item["name"].string(required: true) ?? "", staticIPs: ips, defaults: defaults)
        }
        reportDuplicateNames(zip(networks.map(\.name), nodes).map { ($0, $1) }, what: "network")
        if networks.count > 1 {
            for property in ["dns", "gateway"] {
                let holders = networks.filter { $0.defaults.contains(property) }
                if holders.count != 1 {
                    node.problem("with several networks exactly one must have default: [\(property)], found \(holders.count)")
                }
            }
        }
        return networks
    }
}

/// The parts of an instance group's `env` that Bosun acts on; the whole map is kept in `raw`.
public struct AgentEnvironment: Sendable, Hashable {
    public var raw: YAMLValue
    public var persistentDiskFS: String
    /// `env.bosh.job_dir.tmpfs`: rendered jobs and sensitive blobs in memory.
    public var jobDirTmpfs: Bool
    public var jobDirTmpfsSize: String?
    /// `env.bosh.agent.settings.tmpfs`: the agent's own settings in memory.
    public var agentSettingsTmpfs: Bool
    public var runDirTmpfsSize: String?

    static func read(_ node: ManifestNode, useTmpfsConfig: Bool?) -> AgentEnvironment {
        node.map()
        let bosh = node["bosh"]
        bosh.map()
        let fs = node["persistent_disk_fs"].string() ?? "ext4"
        if !["ext4", "xfs"].contains(fs) { node["persistent_disk_fs"].problem("expected ext4 or xfs, got \"\(fs)\"") }
        var raw = node.freeform()
        if let useTmpfsConfig {
            // As BOSH does, the feature is written into the env itself, so flipping it changes
            // the env and recreates the VMs it concerns.
            for path in [["bosh", "job_dir", "tmpfs"], ["bosh", "agent", "settings", "tmpfs"]] where raw.value(at: path) == nil {
                raw = raw.setting(path, to: .bool(useTmpfsConfig))
            }
        }
        return AgentEnvironment(
            raw: raw, persistentDiskFS: fs,
            jobDirTmpfs: bosh["job_dir"]["tmpfs"].bool() ?? useTmpfsConfig ?? false,
            jobDirTmpfsSize: bosh["job_dir"]["tmpfs_size"].string(),
            agentSettingsTmpfs: bosh["agent"]["settings"]["tmpfs"].bool() ?? useTmpfsConfig ?? false,
            runDirTmpfsSize: bosh["run_dir"]["tmpfs_size"].string())
    }
}

extension YAMLValue {
    /// The value at a path of string keys, nil when any step is missing or not a map.
    func value(at path: [String]) -> YAMLValue? {
        path.reduce(Optional(self)) { value, key in value?[key] }.flatMap { $0.isNull ? nil : $0 }
    }

    /// This map with `value` at `path`, making the maps on the way (a null becomes a map).
    func setting(_ path: [String], to value: YAMLValue) -> YAMLValue {
        guard let key = path.first else { return value }
        var map = mapValue ?? YAMLMap()
        map[.string(key)] = (map[.string(key)] ?? .null).setting(Array(path.dropFirst()), to: value)
        return .map(map)
    }
}
