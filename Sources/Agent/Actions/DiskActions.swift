import AgentProtocol
import BosunCore
import Foundation

/// Persistent disks (reference §3.5): the director tells the agent where a disk appears (the CPI's
/// hint), the agent formats it on first use (ext4) and mounts it at `/var/vcap/store`; a second
/// disk goes to `/var/vcap/store_migration_target` for `migrate_disk`.
enum PersistentDisks {
    static func hintsFile(_ paths: AgentPaths) -> String { paths.bosh + "/persistent_disk_hints.json" }
    static func migrationTarget(_ paths: AgentPaths) -> String { paths.root + "/store_migration_target" }

    static func hints(_ paths: AgentPaths) -> [String: JSONValue] {
        guard let data = FileManager.default.contents(atPath: hintsFile(paths)),
            case .object(let hints)? = try? JSONCoding.decoder.decode(JSONValue.self, from: data)
        else { return [:] }
        return hints
    }

    static func save(_ hints: [String: JSONValue], _ paths: AgentPaths) throws {
        try JSONCoding.encoder.encode(JSONValue.object(hints)).write(to: URL(fileURLWithPath: hintsFile(paths)))
    }

    /// The device path a hint names: a string, or `{path}` / `{id}`.
    static func device(for cid: String, _ paths: AgentPaths) throws -> String {
        guard let hint = hints(paths)[cid] else { throw ActionError("Persistent disk with volume id '\(cid)' could not be found") }
        if let path = hint.stringValue ?? hint["path"]?.stringValue { return path }
        throw ActionError("Persistent disk '\(cid)' has a hint without a device path")
    }

    /// Where the device is mounted, if anywhere (matched by device number, so any node name works).
    static func mountpoint(of device: String) -> String? {
        var info = stat()
        guard stat(device, &info) == 0 else { return nil }
        let key = "\((info.st_rdev >> 8) & 0xfff):\((info.st_rdev & 0xff) | ((info.st_rdev >> 12) & 0xfff00))"
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 4, fields[2] == key { return String(fields[4]) }
        }
        return nil
    }

    static func mount(_ device: String, at target: String) async throws {
        try Filesystem.makeDirectory(target, mode: 0o700)
        if await ProcessRunner.output("/usr/sbin/blkid", ["-o", "value", "-s", "TYPE", device])?.isEmpty ?? true {
            guard await ProcessRunner.status("/usr/sbin/mkfs.ext4", ["-q", "-F", device]) == 0 else {
                throw ActionError("Formatting \(device) as ext4 failed")
            }
        }
        guard Glibc.mount(device, target, "ext4", UInt(MS_NOATIME), nil) == 0 else {
            throw ActionError("Mounting \(device) at \(target) failed: \(String(cString: strerror(errno)))")
        }
    }

    static func unmount(_ target: String) throws {
        guard umount(target) == 0 else {
            throw ActionError("Unmounting \(target) failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// `add_persistent_disk(cid, hint)`: remembers where the disk appears.
struct AddPersistentDiskAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let cid = try arguments.string(0, "disk_cid")
        guard arguments.count > 1 else { throw ActionError("Not enough arguments, expected disk_hint") }
        var hints = PersistentDisks.hints(agent.paths)
        hints[cid] = arguments[1]
        try PersistentDisks.save(hints, agent.paths)
        return [:]
    }
}

/// `remove_persistent_disk(cid)`: forgets the hint.
struct RemovePersistentDiskAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let cid = try arguments.string(0, "disk_cid")
        var hints = PersistentDisks.hints(agent.paths)
        hints[cid] = nil
        try PersistentDisks.save(hints, agent.paths)
        return [:]
    }
}

/// `mount_disk(cid)`: formats on first use, mounts at `/var/vcap/store` (or the migration target
/// when another disk is already there).
struct MountDiskAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let cid = try arguments.string(0, "disk_cid")
        let device = try PersistentDisks.device(for: cid, agent.paths)
        if PersistentDisks.mountpoint(of: device) != nil { return [:] }
        let store = agent.paths.store
        let target = Filesystem.isMountpoint(store) ? PersistentDisks.migrationTarget(agent.paths) : store
        try await PersistentDisks.mount(device, at: target)
        return [:]
    }
}

/// `unmount_disk(cid)`: `{"message": …}` either way.
struct UnmountDiskAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let cid = try arguments.string(0, "disk_cid")
        let device = try PersistentDisks.device(for: cid, agent.paths)
        guard let mountpoint = PersistentDisks.mountpoint(of: device) else {
            return ["message": .string("Partition of \(cid) is not mounted")]
        }
        try PersistentDisks.unmount(mountpoint)
        return ["message": .string("Unmounted partition of \(cid)")]
    }
}

/// `list_disk`: the CIDs of the persistent disks mounted now.
struct ListDiskAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let mounted = PersistentDisks.hints(agent.paths).keys.sorted().filter { cid in
            (try? PersistentDisks.device(for: cid, agent.paths)).flatMap(PersistentDisks.mountpoint(of:)) != nil
        }
        return .array(mounted.map(JSONValue.string))
    }
}

/// `migrate_disk(old, new)`: copies the store onto the new disk (mounted at the migration target),
/// then swaps mounts so the new disk becomes `/var/vcap/store`.
struct MigrateDiskAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let store = agent.paths.store
        let target = PersistentDisks.migrationTarget(agent.paths)
        guard Filesystem.isMountpoint(store), Filesystem.isMountpoint(target) else {
            throw ActionError("Migrating needs the old disk at \(store) and the new one at \(target)")
        }
        guard await ProcessRunner.status("/bin/cp", ["-a", store + "/.", target + "/"]) == 0 else {
            throw ActionError("Copying \(store) to \(target) failed")
        }
        let newDevice = try mountedDevice(at: target)
        try PersistentDisks.unmount(store)
        try PersistentDisks.unmount(target)
        try await PersistentDisks.mount(newDevice, at: store)
        return [:]
    }

    private func mountedDevice(at path: String) throws -> String {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            let fields = halves[0].split(separator: " ")
            if fields.count > 4, fields[4] == path, halves.count == 2, let source = halves[1].split(separator: " ").dropFirst().first {
                return String(source)
            }
        }
        throw ActionError("Nothing is mounted at \(path)")
    }
}
