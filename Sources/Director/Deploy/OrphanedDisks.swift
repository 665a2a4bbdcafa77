import BosunCore
import CPI
import FluentKit
import Foundation

/// Orphaned persistent disks (reference §1.9): what a deleted instance or a replaced disk leaves,
/// kept until deleted on purpose or by age.
enum OrphanedDisks {
    /// Moves a (detached) disk from its instance to the orphans, in one transaction.
    static func orphan(
        _ disk: PersistentDiskRecord, instanceName: String, deploymentName: String, az: String?,
        on database: any Database
    ) async throws {
        guard let cid = disk.cid else {
            try await disk.delete(on: database)  // never created: nothing to keep
            return
        }
        try await database.transaction { database in
            let orphan = OrphanedDiskRecord()
            orphan.cid = cid
            orphan.sizeMB = disk.sizeMB
            orphan.cloudProperties = disk.cloudProperties
            orphan.deploymentName = deploymentName
            orphan.instanceName = instanceName
            orphan.az = az
            orphan.orphanedAt = Date().timeIntervalSince1970
            try await orphan.save(on: database)
            try await disk.delete(on: database)
        }
    }

    /// `GET /disks` rows, in the CLI's shape.
    static func listing(on database: any Database) async throws -> [JSONValue] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        return try await OrphanedDiskRecord.query(on: database).sort(\.$orphanedAt).all().map { orphan in
            [
                "disk_cid": .string(orphan.cid), "size": .int(orphan.sizeMB),
                "deployment_name": .string(orphan.deploymentName),
                "instance_name": .string(orphan.instanceName), "az": orphan.az.map(JSONValue.string) ?? .null,
                "orphaned_at": .string(formatter.string(from: Date(timeIntervalSince1970: orphan.orphanedAt))),
            ]
        }
    }

    /// Deletes one orphaned disk through the CPI (a disk the IaaS no longer has counts as deleted).
    static func delete(_ orphan: OrphanedDiskRecord, context: TaskContext) async throws {
        try await context.deleteDiskIfPresent(orphan.cid)
        try await orphan.delete(on: context.database)
    }

    /// Deletes the orphaned disks older than `maxAge` (all of them when nil).
    static func deleteAll(olderThan maxAge: Double?, context: TaskContext) async throws -> Int {
        var query = OrphanedDiskRecord.query(on: context.database)
        if let maxAge { query = query.filter(\.$orphanedAt <= Date().timeIntervalSince1970 - maxAge) }
        let orphans = try await query.sort(\.$orphanedAt).all()
        for (index, orphan) in orphans.enumerated() {
            try await context.events.step(
                stage: "Deleting orphaned disks", task: orphan.cid, index: index + 1, total: orphans.count
            ) {
                try await delete(orphan, context: context)
            }
        }
        return orphans.count
    }
}

/// `delete_orphan_disk` (`DELETE /disks/<cid>`, `bosun delete-disk CID`).
struct DeleteOrphanedDiskJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let cid = context.arguments["disk_cid"]?.stringValue,
            let orphan = try await OrphanedDiskRecord.query(on: context.database).filter(\.$cid == cid).first()
        else {
            throw DeployError("Orphaned disk '\(context.arguments["disk_cid"]?.stringValue ?? "")' does not exist")
        }
        try await context.events.step(stage: "Deleting orphaned disk", task: cid) {
            try await OrphanedDisks.delete(orphan, context: context)
        }
        return "orphaned disk \(cid) deleted"
    }
}

/// `orphan_disk` (`DELETE /disks/<cid>?orphan=true`, `bosh orphan-disk CID`): an instance's
/// persistent disk becomes an orphan, kept until deleted. A disk that is already an orphan, or
/// unknown, is left as it is with a warning, as BOSH does — never deleted. Unlike BOSH, which
/// orphans a disk still attached to a running VM in its database only, Bosun refuses that: the
/// instance would keep using a disk the director no longer counts as its own.
struct OrphanDiskJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let cid = context.arguments["disk_cid"]?.stringValue ?? ""
        guard let disk = try await PersistentDiskRecord.query(on: context.database).filter(\.$cid == cid).first(),
            let instance = try await InstanceRecord.find(disk.instanceID, on: context.database),
            let deployment = try await DeploymentRecord.find(instance.deploymentID, on: context.database)
        else {
            try context.events.warning("Disk \(cid) does not exist. Orphaning is skipped")
            return "disk \(cid) orphaned"
        }
        return try await context.withDeploymentLock(deployment.name) {
            let name = "\(instance.group)/\(instance.uuid)"
            if disk.active, let id = instance.id, try await VMRecord.active(of: id, on: context.database) != nil {
                throw DeployError(
                    "Disk \(cid) is attached to the VM of \(name) in deployment '\(deployment.name)': stop --hard the instance first"
                )
            }
            try await context.events.step(stage: "Orphan disk", task: cid) {
                try await OrphanedDisks.orphan(
                    disk, instanceName: name, deploymentName: deployment.name, az: instance.az, on: context.database)
            }
            return "disk \(cid) orphaned"
        }
    }
}

/// `attach_disk` (`PUT /disks/<cid>/attachments?deployment=&job=&instance_id=`, `bosun
/// attach-disk GROUP/ID CID`): an orphaned disk becomes the persistent disk of an instance that
/// `stop --hard` left without a VM; the disk it had, if any, is orphaned in its place. The next
/// `start` attaches and mounts it.
struct AttachDiskJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let deployment = context.deployment, let cid = context.arguments["disk_cid"]?.stringValue,
            let group = context.arguments["job"]?.stringValue,
            let instanceID = context.arguments["instance_id"]?.stringValue
        else { throw DeployError("attach_disk needs a deployment, a disk CID, an instance group and an instance id") }
        return try await context.withDeploymentLock(deployment) {
            let state = try await DeploymentState.load(deployment, on: context.database)
            guard
                let instance = state.instances.first(where: {
                    $0.group == group && ($0.uuid == instanceID || String($0.index) == instanceID)
                }),
                let id = instance.id
            else { throw DeployError("Instance '\(group)/\(instanceID)' does not exist in deployment '\(deployment)'") }
            let name = "\(instance.group)/\(instance.uuid)"
            guard instance.state == "detached", state.vms[id] == nil else {
                throw DeployError(
                    "Instance '\(name)' has a VM: run 'bosun -d \(deployment) stop --hard \(name)' before attaching a disk to it"
                )
            }
            guard let orphan = try await OrphanedDiskRecord.query(on: context.database).filter(\.$cid == cid).first()
            else {
                throw DeployError("Disk '\(cid)' is not an orphaned disk (see 'bosun disks --orphaned')")
            }
            try await context.events.step(stage: "Attaching disk", task: "\(cid) to \(name)") {
                let current = try await PersistentDiskRecord.query(on: context.database).filter(\.$instanceID == id)
                    .filter(\.$active == true).all()
                for disk in current {
                    try await OrphanedDisks.orphan(
                        disk, instanceName: name, deploymentName: deployment, az: instance.az, on: context.database)
                }
                try await context.database.transaction { database in
                    let disk = PersistentDiskRecord()
                    disk.instanceID = id
                    disk.cid = orphan.cid
                    disk.sizeMB = orphan.sizeMB
                    disk.cloudProperties = orphan.cloudProperties
                    disk.active = true
                    try await disk.save(on: database)
                    try await orphan.delete(on: database)
                }
            }
            return "disk \(cid) attached to \(name)"
        }
    }
}
