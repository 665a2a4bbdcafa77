import BosunCore

/// What an IaaS offers the director (CPI API v2). `ExternalCPI` speaks it to any BOSH CPI
/// executable; the local CPI implements it directly.
public protocol CloudProvider: Sendable {
    func info() async throws(CPIError) -> CPIInfo
    func createStemcell(imagePath: String, cloudProperties: JSONValue) async throws(CPIError) -> String
    func deleteStemcell(_ stemcellCID: String) async throws(CPIError)
    /// Returns the VM CID and the networks as the IaaS configured them.
    func createVM(
        agentID: String, stemcellCID: String, cloudProperties: JSONValue, networks: JSONValue, diskCIDs: [String],
        env: JSONValue
    ) async throws(CPIError) -> (vmCID: String, networks: JSONValue)
    func deleteVM(_ vmCID: String) async throws(CPIError)
    func hasVM(_ vmCID: String) async throws(CPIError) -> Bool
    func rebootVM(_ vmCID: String) async throws(CPIError)
    func setVMMetadata(_ vmCID: String, _ metadata: [String: String]) async throws(CPIError)
    func createDisk(sizeMB: Int, cloudProperties: JSONValue, vmCID: String?) async throws(CPIError) -> String
    func deleteDisk(_ diskCID: String) async throws(CPIError)
    /// Returns the hint the agent uses to find the disk.
    func attachDisk(vmCID: String, diskCID: String) async throws(CPIError) -> JSONValue
    func detachDisk(vmCID: String, diskCID: String) async throws(CPIError)
    func hasDisk(_ diskCID: String) async throws(CPIError) -> Bool
    func getDisks(vmCID: String) async throws(CPIError) -> [String]
    func setDiskMetadata(_ diskCID: String, _ metadata: [String: String]) async throws(CPIError)
    func resizeDisk(_ diskCID: String, newSizeMB: Int) async throws(CPIError)
    func calculateVMCloudProperties(cpu: Int, ramMB: Int, ephemeralDiskMB: Int) async throws(CPIError) -> JSONValue
    /// Bosun extension `move_address` (advertised in `info.extensions`): takes the addresses in
    /// `networks` away from `sourceVMCID` and gives them to `targetVMCID` in place of its own, so
    /// a replacement VM answers on the instance's address. Connections from the target's old
    /// address are cut (its agent reconnects); caches that mapped the address to the old VM are
    /// flushed. Returns the target's networks as configured.
    func moveAddress(from sourceVMCID: String, to targetVMCID: String, networks: JSONValue) async throws(CPIError) -> JSONValue
    /// Bosun extension `find_vms_by_agent`: the VMs created for an agent id. A director killed
    /// while `create_vm` ran never learnt the CID; this finds the VM so it can be deleted.
    func findVMs(agentID: String) async throws(CPIError) -> [String]
    /// Bosun extension `list_vms`: every VM the CPI has, with its agent id and the
    /// `env.bosh.groups` it was created with, so a cloud check can find VMs the director lost.
    func listVMs() async throws(CPIError) -> [ListedVM]
}

/// One VM `list_vms` reports.
public struct ListedVM: Sendable, Equatable, Codable {
    public var vmCID: String
    public var agentID: String
    public var groups: [String]

    public init(vmCID: String, agentID: String, groups: [String]) {
        self.vmCID = vmCID
        self.agentID = agentID
        self.groups = groups
    }

    enum CodingKeys: String, CodingKey {
        case vmCID = "vm_cid"
        case agentID = "agent_id"
        case groups
    }
}

extension CloudProvider {
    public func moveAddress(from sourceVMCID: String, to targetVMCID: String, networks: JSONValue) async throws(CPIError) -> JSONValue {
        throw CPIError(.notImplemented, "'move_address' is not implemented by this CPI")
    }

    public func findVMs(agentID: String) async throws(CPIError) -> [String] {
        throw CPIError(.notImplemented, "'find_vms_by_agent' is not implemented by this CPI")
    }

    public func listVMs() async throws(CPIError) -> [ListedVM] {
        throw CPIError(.notImplemented, "'list_vms' is not implemented by this CPI")
    }
}

/// Names of Bosun's CPI extensions, as `info` lists them.
public enum CPIExtension {
    public static let moveAddress = "move_address"
    public static let findVMsByAgent = "find_vms_by_agent"
    public static let listVMs = "list_vms"
}

/// `info`'s result. Capacity is a Bosun extension (other CPIs leave it out) that lets the director
/// check room for a create-swap-delete surge before touching anything.
public struct CPIInfo: Codable, Sendable, Equatable {
    public var apiVersion: Int
    public var stemcellFormats: [String]
    public var capacity: Capacity?
    /// Bosun extensions the CPI implements (`CPIExtension`); absent from other CPIs.
    public var extensions: [String]?

    public func supports(_ name: String) -> Bool { extensions?.contains(name) ?? false }

    public struct Capacity: Codable, Sendable, Equatable {
        public var cpus: Int
        public var memoryMB: Int
        public var diskFreeMB: Int
        public var maxVMs: Int
        public var vms: Int

        public init(cpus: Int, memoryMB: Int, diskFreeMB: Int, maxVMs: Int, vms: Int) {
            self.cpus = cpus
            self.memoryMB = memoryMB
            self.diskFreeMB = diskFreeMB
            self.maxVMs = maxVMs
            self.vms = vms
        }

        enum CodingKeys: String, CodingKey {
            case cpus
            case memoryMB = "memory_mb"
            case diskFreeMB = "disk_free_mb"
            case maxVMs = "max_vms"
            case vms
        }
    }

    public init(apiVersion: Int, stemcellFormats: [String], capacity: Capacity? = nil, extensions: [String]? = nil) {
        self.apiVersion = apiVersion
        self.stemcellFormats = stemcellFormats
        self.capacity = capacity
        self.extensions = extensions
    }

    enum CodingKeys: String, CodingKey {
        case apiVersion = "api_version"
        case stemcellFormats = "stemcell_formats"
        case capacity, extensions
    }
}
