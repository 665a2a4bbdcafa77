import BosunCore
import CPI
import Foundation

/// Bosun's own IaaS on this machine: VMs are OCI containers with their own network namespace and
/// IP on a bridge, disks are sparse image files exposed through loop devices. Every method is
/// idempotent and safe to repeat after a crash; state lives in the work directory.
public struct LocalCPI: CloudProvider {
    public let configuration: LocalCPIConfiguration
    let paths: LocalCPIPaths

    public init(configuration: LocalCPIConfiguration) {
        self.configuration = configuration
        self.paths = LocalCPIPaths(root: configuration.workDirectory)
    }

    public func info() async throws(CPIError) -> CPIInfo {
        try paths.prepare()
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let memoryMB = Int(ProcessInfo.processInfo.physicalMemory / 1024 / 1024)
        var stats = statvfs()
        let diskFreeMB = statvfs(paths.root, &stats) == 0 ? Int(UInt64(stats.f_bavail) * UInt64(stats.f_frsize) / 1024 / 1024) : 0
        let vms = runningVMCount()
        return CPIInfo(
            apiVersion: 2, stemcellFormats: [LocalStemcell.format],
            capacity: .init(cpus: cpus, memoryMB: memoryMB, diskFreeMB: diskFreeMB, maxVMs: configuration.maxVMs, vms: vms),
            extensions: (configuration.movesAddresses ? [CPIExtension.moveAddress] : []) + [CPIExtension.findVMsByAgent, CPIExtension.listVMs])
    }

    /// `cpu` → CPU quota, `ram` and `ephemeral_disk` in MB, as the VM type's cloud properties say.
    public func calculateVMCloudProperties(cpu: Int, ramMB: Int, ephemeralDiskMB: Int) async throws(CPIError) -> JSONValue {
        ["cpu": .int(cpu), "ram": .int(ramMB), "ephemeral_disk": .int(ephemeralDiskMB)]
    }
}

/// Where things live under the work directory.
struct LocalCPIPaths: Sendable {
    let root: String
    var stemcells: String { root + "/stemcells" }
    var vms: String { root + "/vms" }
    var disks: String { root + "/disks" }
    var lockFile: String { root + "/.lock" }

    func stemcell(_ cid: String) -> String { stemcells + "/" + cid }
    func vm(_ cid: String) -> String { vms + "/" + cid }
    func diskImage(_ cid: String) -> String { disks + "/" + cid + ".img" }
    func diskRecord(_ cid: String) -> String { disks + "/" + cid + ".json" }

    func prepare() throws(CPIError) {
        for directory in [root, stemcells, vms, disks] {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CPIError(.cloudError, "cannot create \(directory): \(error.localizedDescription)")
            }
        }
    }

    /// Runs `body` holding an exclusive lock across CPI processes (disk attachments, the bridge),
    /// or the one for moving addresses, which touches no disk — so a swap's disk detach and
    /// address move do not wait for each other.
    func locked<T>(addresses: Bool = false, _ body: () async throws(CPIError) -> T) async throws(CPIError) -> T {
        try prepare()
        let lockFile = addresses ? root + "/.address-lock" : self.lockFile
        let descriptor = open(lockFile, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CPIError(.cloudError, "cannot open \(lockFile)") }
        defer { close(descriptor) }
        flock(descriptor, LOCK_EX)
        defer { flock(descriptor, LOCK_UN) }
        return try await body()
    }
}

/// Small JSON record files, written atomically.
enum RecordFile {
    static func read<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONCoding.decoder.decode(T.self, from: data)
    }

    static func write(_ value: some Encodable, to path: String) throws(CPIError) {
        do {
            let data = try JSONCoding.encoder.encode(value)
            let temporary = path + ".tmp-\(getpid())"
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw CPIError(.cloudError, "cannot write \(path)") }
        } catch let error as CPIError {
            throw error
        } catch {
            throw CPIError(.cloudError, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
