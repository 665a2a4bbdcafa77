/// The director's cloud config: where VMs can go and what they look like (bosh.io "cloud config").
public struct CloudConfig: Sendable {
    public struct AvailabilityZone: Sendable, Hashable {
        public var name: String
        public var cloudProperties: YAMLValue
        public var cpi: String?
    }

    public struct VMType: Sendable, Hashable {
        public var name: String
        public var cloudProperties: YAMLValue
    }

    public struct DiskType: Sendable, Hashable {
        public var name: String
        /// Megabytes.
        public var diskSize: Int
        public var cloudProperties: YAMLValue
    }

    public struct Compilation: Sendable, Hashable {
        public var workers: Int
        public var az: String?
        public var vmType: String?
        public var vmResources: VMResources?
        public var cloudProperties: YAMLValue
        public var vmExtensions: [String]
        public var network: String
        public var reuseCompilationVMs: Bool
        public var orphanWorkers: Bool
        public var env: YAMLValue
    }

    public var azs: [AvailabilityZone] = []
    public var vmTypes: [VMType] = []
    public var vmExtensions: [VMType] = []
    public var diskTypes: [DiskType] = []
    public var networks: [CloudNetwork] = []
    public var compilation: Compilation?

    public func az(named name: String) -> AvailabilityZone? { azs.first { $0.name == name } }
    public func network(named name: String) -> CloudNetwork? { networks.first { $0.name == name } }

    /// Reads and validates a cloud config, reporting every problem at once.
    public init(parsing text: String) throws(ManifestValidationError) {
        try self.init(document: try ManifestValidationError.parse(text, document: "cloud config"))
    }

    public init(document: YAMLValue) throws(ManifestValidationError) {
        var config = CloudConfig()
        try ManifestValidationError.reading(document, document: "cloud config") { config.read($0) }
        self = config
    }

    private init() {}

    private mutating func read(_ root: ManifestNode) {
        let azNodes = root["azs"].list()
        azs = azNodes.map { node in
            AvailabilityZone(
                name: node["name"].string(required: true) ?? "", cloudProperties: node["cloud_properties"].freeform(),
                cpi: node["cpi"].string())
        }
        reportDuplicateNames(zip(azs.map(\.name), azNodes).map { ($0, $1) }, what: "AZ")

        let vmTypeNodes = root["vm_types"].list()
        vmTypes = vmTypeNodes.map {
            VMType(name: $0["name"].string(required: true) ?? "", cloudProperties: $0["cloud_properties"].freeform())
        }
        reportDuplicateNames(zip(vmTypes.map(\.name), vmTypeNodes).map { ($0, $1) }, what: "VM type")

        let extensionNodes = root["vm_extensions"].list()
        vmExtensions = extensionNodes.map {
            VMType(name: $0["name"].string(required: true) ?? "", cloudProperties: $0["cloud_properties"].freeform())
        }
        reportDuplicateNames(zip(vmExtensions.map(\.name), extensionNodes).map { ($0, $1) }, what: "VM extension")

        let diskNodes = root["disk_types"].list()
        diskTypes = diskNodes.map {
            DiskType(
                name: $0["name"].string(required: true) ?? "", diskSize: $0["disk_size"].int(required: true, minimum: 1) ?? 0,
                cloudProperties: $0["cloud_properties"].freeform())
        }
        reportDuplicateNames(zip(diskTypes.map(\.name), diskNodes).map { ($0, $1) }, what: "disk type")

        let azNames = Set(azs.map(\.name))
        let networkNodes = root["networks"].list()
        networks = networkNodes.compactMap { CloudNetwork.read($0, azNames: azNames) }
        reportDuplicateNames(networkNodes.map { ($0["name"].value?.stringValue ?? "", $0) }, what: "network")

        let compilationNode = root["compilation"]
        if !compilationNode.isMissing {
            compilation = readCompilation(compilationNode, azNames: azNames)
        }
    }

    private func readCompilation(_ node: ManifestNode, azNames: Set<String>) -> Compilation {
        let az = node["az"].string()
        if let az, !azNames.contains(az) { node["az"].problem("unknown AZ \"\(az)\"") }
        let vmType = node["vm_type"].string()
        if let vmType, !vmTypes.contains(where: { $0.name == vmType }) {
            node["vm_type"].problem("unknown VM type \"\(vmType)\"")
        }
        let network = node["network"].string(required: true) ?? ""
        if !network.isEmpty && !networks.contains(where: { $0.name == network }) {
            node["network"].problem("unknown network \"\(network)\"")
        }
        let extensions = node["vm_extensions"].strings()
        for name in extensions where !vmExtensions.contains(where: { $0.name == name }) {
            node["vm_extensions"].problem("unknown VM extension \"\(name)\"")
        }
        return Compilation(
            workers: node["workers"].int(required: true, minimum: 1) ?? 1, az: az, vmType: vmType,
            vmResources: VMResources.read(node["vm_resources"]), cloudProperties: node["cloud_properties"].freeform(),
            vmExtensions: extensions, network: network, reuseCompilationVMs: node["reuse_compilation_vms"].bool() ?? false,
            orphanWorkers: node["orphan_workers"].bool() ?? false, env: node["env"].freeform())
    }
}

/// `vm_resources`: sizes the CPI turns into cloud properties.
public struct VMResources: Sendable, Hashable {
    public var cpu: Int
    /// Megabytes.
    public var ram: Int
    /// Megabytes.
    public var ephemeralDiskSize: Int

    static func read(_ node: ManifestNode) -> VMResources? {
        guard !node.isMissing, node.map() != nil else { return nil }
        return VMResources(
            cpu: node["cpu"].int(required: true, minimum: 1) ?? 1, ram: node["ram"].int(required: true, minimum: 1) ?? 1,
            ephemeralDiskSize: node["ephemeral_disk_size"].int(required: true, minimum: 1) ?? 1)
    }
}
