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
}

/// `info`'s result. Capacity is a Bosun extension (other CPIs leave it out) that lets the director
/// check room for a create-swap-delete surge before touching anything.
public struct CPIInfo: Codable, Sendable, Equatable {
    public var apiVersion: Int
    public var stemcellFormats: [String]
    public var capacity: Capacity?

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

    public init(apiVersion: Int, stemcellFormats: [String], capacity: Capacity? = nil) {
        self.apiVersion = apiVersion
        self.stemcellFormats = stemcellFormats
        self.capacity = capacity
    }

    enum CodingKeys: String, CodingKey {
        case apiVersion = "api_version"
        case stemcellFormats = "stemcell_formats"
        case capacity
    }
}
