import BosunCore
import CPI
import Foundation

/// What the CPI remembers about a disk, next to its image file.
struct DiskRecord: Codable {
    var sizeMB: Int
    var metadata: [String: String] = [:]
    /// The VM it is attached to, and through which loop device.
    var attachedTo: String?
    var loopDevice: String?

    enum CodingKeys: String, CodingKey {
        case sizeMB = "size_mb"
        case metadata
        case attachedTo = "attached_to"
        case loopDevice = "loop_device"
    }
}

extension LocalCPI {
    /// A sparse image file; the agent formats it on first mount, as on any IaaS.
    public func createDisk(sizeMB: Int, cloudProperties: JSONValue, vmCID: String?) async throws(CPIError) -> String {
        try paths.prepare()
        guard sizeMB > 0 else { throw CPIError(.cloudError, "create_disk: size must be positive, got \(sizeMB)") }
        let cid = "disk-" + UUID().uuidString.lowercased()
        let image = paths.diskImage(cid)
        let descriptor = open(image, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CPIError(.cloudError, "cannot create \(image): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(sizeMB) * 1024 * 1024) == 0 else {
            unlink(image)
            throw CPIError(.noDiskSpace, "cannot size \(image) to \(sizeMB) MB: \(String(cString: strerror(errno)))", okToRetry: false)
        }
        do {
            try RecordFile.write(DiskRecord(sizeMB: sizeMB), to: paths.diskRecord(cid))
        } catch {
            unlink(image)
            throw error
        }
        return cid
    }

    public func deleteDisk(_ diskCID: String) async throws(CPIError) {
        try await paths.locked { () throws(CPIError) in
            if let record = RecordFile.read(DiskRecord.self, from: paths.diskRecord(diskCID)), let vm = record.attachedTo {
                throw CPIError(.cloudError, "disk '\(diskCID)' is attached to VM '\(vm)'; detach it first")
            }
            unlink(paths.diskImage(diskCID))
            unlink(paths.diskRecord(diskCID))
        }
    }

    public func hasDisk(_ diskCID: String) async throws(CPIError) -> Bool {
        FileManager.default.fileExists(atPath: paths.diskImage(diskCID))
    }

    public func setDiskMetadata(_ diskCID: String, _ metadata: [String: String]) async throws(CPIError) {
        try await paths.locked { () throws(CPIError) in
            guard var record = RecordFile.read(DiskRecord.self, from: paths.diskRecord(diskCID)) else {
                throw CPIError(.diskNotFound, "disk '\(diskCID)' does not exist")
            }
            record.metadata.merge(metadata) { $1 }
            try RecordFile.write(record, to: paths.diskRecord(diskCID))
        }
    }

    /// Grows a detached disk; the agent grows the filesystem when it next mounts it.
    public func resizeDisk(_ diskCID: String, newSizeMB: Int) async throws(CPIError) {
        try await paths.locked { () throws(CPIError) in
            guard var record = RecordFile.read(DiskRecord.self, from: paths.diskRecord(diskCID)) else {
                throw CPIError(.diskNotFound, "disk '\(diskCID)' does not exist")
            }
            if let vm = record.attachedTo {
                throw CPIError(.cloudError, "disk '\(diskCID)' is attached to VM '\(vm)'; detach it before resizing")
            }
            guard newSizeMB >= record.sizeMB else {
                throw CPIError(.notSupported, "disk '\(diskCID)' cannot shrink from \(record.sizeMB) MB to \(newSizeMB) MB")
            }
            guard truncate(paths.diskImage(diskCID), off_t(newSizeMB) * 1024 * 1024) == 0 else {
                throw CPIError(.noDiskSpace, "cannot grow disk '\(diskCID)': \(String(cString: strerror(errno)))")
            }
            record.sizeMB = newSizeMB
            try RecordFile.write(record, to: paths.diskRecord(diskCID))
        }
    }

    public func getDisks(vmCID: String) async throws(CPIError) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: paths.disks)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap { name -> String? in
            let cid = String(name.dropLast(5))
            return RecordFile.read(DiskRecord.self, from: paths.diskRecord(cid))?.attachedTo == vmCID ? cid : nil
        }.sorted()
    }
}
