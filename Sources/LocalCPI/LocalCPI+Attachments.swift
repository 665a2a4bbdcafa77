import BosunCore
import CPI
import Foundation

/// Attaching a disk: a loop device on the host, exposed as a block node inside the running VM
/// (`/dev/bosun/<disk>`), which the agent formats and mounts. An image is never attached twice,
/// and a disk still mounted inside its VM cannot be detached.
extension LocalCPI {
    static func devicePathInVM(_ diskCID: String) -> String { "/dev/bosun/" + diskCID }

    public func attachDisk(vmCID: String, diskCID: String) async throws(CPIError) -> JSONValue {
        try await paths.locked { () throws(CPIError) in
            guard var disk = RecordFile.read(DiskRecord.self, from: paths.diskRecord(diskCID)) else {
                throw CPIError(.diskNotFound, "disk '\(diskCID)' does not exist")
            }
            guard FileManager.default.fileExists(atPath: paths.vm(vmCID) + "/vm.json") else {
                throw CPIError(.vmNotFound, "VM '\(vmCID)' does not exist")
            }
            if let other = disk.attachedTo, other != vmCID {
                throw CPIError(.cloudError, "disk '\(diskCID)' is attached to VM '\(other)'; detach it first")
            }
            let image = paths.diskImage(diskCID)
            var loop = disk.loopDevice
            if loop == nil {
                let users = (try? await HostCommand.run("/usr/sbin/losetup", ["-j", image])) ?? ""
                guard users.isEmpty else {
                    throw CPIError(.cloudError, "disk '\(diskCID)' is already in use outside the CPI's records: \(users)")
                }
                loop = try await HostCommand.cpi(.cloudError, "/usr/sbin/losetup", ["--find", "--show", image])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                disk.attachedTo = vmCID
                disk.loopDevice = loop
                try RecordFile.write(disk, to: paths.diskRecord(diskCID))
            }
            do throws(CPIError) {
                try await exposeDevice(loop!, as: diskCID, in: vmCID)
            } catch {
                try? await releaseLoopDevice(diskCID)
                throw error
            }
            return .string(Self.devicePathInVM(diskCID))
        }
    }

    public func detachDisk(vmCID: String, diskCID: String) async throws(CPIError) {
        try await paths.locked { () throws(CPIError) in
            guard let disk = RecordFile.read(DiskRecord.self, from: paths.diskRecord(diskCID)) else {
                throw CPIError(.diskNotFound, "disk '\(diskCID)' does not exist")
            }
            guard let attachedTo = disk.attachedTo else { return }  // already detached
            guard attachedTo == vmCID else {
                throw CPIError(.diskNotAttached, "disk '\(diskCID)' is attached to VM '\(attachedTo)', not '\(vmCID)'")
            }
            if let loop = disk.loopDevice, let pid = try? await containerPID(vmCID) {
                if let mountpoint = try mountpoint(of: loop, inProcess: pid) {
                    throw CPIError(
                        .cloudError, "disk '\(diskCID)' is still mounted at \(mountpoint) inside VM '\(vmCID)'; unmount it first")
                }
                await HostCommand.bestEffort(
                    "/usr/bin/nsenter", ["-t", String(pid), "-m", "-p", "--", "rm", "-f", Self.devicePathInVM(diskCID)])
            }
            try await releaseLoopDevice(diskCID)
        }
    }

    /// Creates the block node for `loop` inside the VM's mount namespace.
    func exposeDevice(_ loop: String, as diskCID: String, in vmCID: String) async throws(CPIError) {
        let pid = try await containerPID(vmCID)
        var info = stat()
        guard stat(loop, &info) == 0 else { throw CPIError(.cloudError, "loop device \(loop) is gone") }
        let major = (info.st_rdev >> 8) & 0xfff
        let minor = (info.st_rdev & 0xff) | ((info.st_rdev >> 12) & 0xfff00)
        let node = Self.devicePathInVM(diskCID)
        try await HostCommand.cpi(
            .cloudError, "/usr/bin/nsenter",
            ["-t", String(pid), "-m", "-p", "--", "sh", "-c",
             "mkdir -p /dev/bosun && rm -f \(node) && mknod \(node) b \(major) \(minor)"])
    }

    /// Frees the loop device and clears the attachment; refuses if the image is still in use.
    func releaseLoopDevice(_ diskCID: String) async throws(CPIError) {
        guard var disk = RecordFile.read(DiskRecord.self, from: paths.diskRecord(diskCID)) else { return }
        if let loop = disk.loopDevice {
            await HostCommand.bestEffort("/usr/sbin/losetup", ["-d", loop])
            let users = (try? await HostCommand.run("/usr/sbin/losetup", ["-j", paths.diskImage(diskCID)])) ?? ""
            guard users.isEmpty else {
                throw CPIError(.cloudError, "disk '\(diskCID)' is still busy after detaching (\(users.trimmingCharacters(in: .whitespacesAndNewlines)))")
            }
        }
        disk.attachedTo = nil
        disk.loopDevice = nil
        try RecordFile.write(disk, to: paths.diskRecord(diskCID))
    }

    /// Where the loop device is mounted inside the process's mount namespace, if anywhere.
    private func mountpoint(of loop: String, inProcess pid: Int) throws(CPIError) -> String? {
        var info = stat()
        guard stat(loop, &info) == 0 else { return nil }
        let major = (info.st_rdev >> 8) & 0xfff
        let minor = (info.st_rdev & 0xff) | ((info.st_rdev >> 12) & 0xfff00)
        guard let mountinfo = try? String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8) else { return nil }
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 4, fields[2] == "\(major):\(minor)" { return String(fields[4]) }
        }
        return nil
    }
}
