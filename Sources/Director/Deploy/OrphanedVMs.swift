import BosunCore
import CPI
import FluentKit
import Foundation

/// Orphaned VMs (reference §1.8): recording one, listing them, and deleting them through the CPI.
enum OrphanedVMs {
    /// Turns a VM row into an orphaned VM, in the caller's transaction: addresses the VM still
    /// holds stay reserved to the orphan; the VM row goes.
    static func orphan(_ vm: VMRecord, instanceName: String, deploymentName: String, az: String? = nil, on database: any Database) async throws {
        guard let cid = vm.cid, let vmID = vm.id else {
            try await vm.delete(on: database)
            return
        }
        let orphan = OrphanedVMRecord()
        orphan.cid = cid
        orphan.deploymentName = deploymentName
        orphan.instanceName = instanceName
        orphan.az = az
        orphan.description = vm.description
        orphan.orphanedAt = Date().timeIntervalSince1970
        try await orphan.save(on: database)
        for address in try await IPAddressRecord.query(on: database).filter(\.$vmID == vmID).all() {
            address.vmID = nil
            address.orphanedVMID = orphan.id
            try await address.save(on: database)
        }
        try await vm.delete(on: database)
    }

    /// One row of `GET /orphaned_vms`, in the CLI's shape.
    static func listing(on database: any Database) async throws -> [JSONValue] {
        let orphans = try await OrphanedVMRecord.query(on: database).sort(\.$orphanedAt).all()
        let ids = orphans.compactMap(\.id)
        let addresses = ids.isEmpty ? [] : try await IPAddressRecord.query(on: database).filter(\.$orphanedVMID ~~ ids).all()
        let formatter = ISO8601DateFormatter()
        return orphans.map { orphan in
            [
                "cid": .string(orphan.cid), "deployment_name": .string(orphan.deploymentName), "instance_name": .string(orphan.instanceName),
                "az": orphan.az.map(JSONValue.string) ?? .null,
                "ip_addresses": .array(addresses.filter { $0.orphanedVMID == orphan.id }.map { .string($0.address) }),
                "orphaned_at": .string(formatter.string(from: Date(timeIntervalSince1970: orphan.orphanedAt))),
            ]
        }
    }

    /// Result of one cleanup round.
    struct CleanupResult: Sendable {
        var deleted: [String] = []
        var failed: [String: String] = [:]
    }

    /// Deletes every orphaned VM (at most `parallel` at once): CPI `delete_vm` (a VM already gone
    /// counts as deleted), then its addresses and its row. A failure is noted on the row and
    /// left for the next round. Each VM is locked while it is deleted, so two rounds never race.
    static func deleteAll(context: TaskContext, parallel: Int = 5) async throws -> CleanupResult {
        let orphans = try await OrphanedVMRecord.query(on: context.database).sort(\.$orphanedAt).all()
        let result = Collected(CleanupResult())
        try await ParallelRun.forEach(orphans, limit: parallel) { index, orphan in
            do {
                try await delete(orphan, context: context, stage: "Deleting orphaned VMs", index: index + 1, total: orphans.count)
                result.update { $0.deleted.append(orphan.cid) }
            } catch {
                let message = "\(error)"
                context.events.debug("Deleting orphaned VM \(orphan.cid) failed, left for the next round: \(message)")
                orphan.lastError = message
                try? await orphan.save(on: context.database)
                result.update { $0.failed[orphan.cid] = message }
            }
        }
        return result.value
    }

    /// Deletes one orphaned VM under its lock: CPI `delete_vm` (a VM already gone counts as
    /// deleted), then its addresses and its row.
    private static func delete(_ orphan: OrphanedVMRecord, context: TaskContext, stage: String, index: Int, total: Int) async throws {
        try await context.locks.withLock(type: "orphan_vm_cleanup", resource: [orphan.cid], taskID: context.taskID, user: context.user) {
            try await context.events.step(stage: stage, task: orphan.cid, index: index, total: total) {
                try await context.deleteVMIfPresent(orphan.cid)
                try await context.database.transaction { database in
                    if let id = orphan.id { try await IPAddressRecord.query(on: database).filter(\.$orphanedVMID == id).delete() }
                    try await orphan.delete(on: database)
                }
            }
        }
    }

    /// Before a create-swap-delete replacement is created: when the CPI reports no free VM slot,
    /// deletes orphaned VMs, oldest first, until one is free — the VMs earlier swaps of this
    /// very update left behind would otherwise hold the slots the next swaps need until the
    /// scheduled cleanup comes round. An orphan the cleanup is deleting right now is waited for.
    /// Returns without a word when the CPI does not report its capacity or nothing is orphaned;
    /// `create_vm` then says what is short.
    static func makeRoom(context: TaskContext, patience: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + patience
        while ContinuousClock.now < deadline {
            guard let capacity = try await context.cpi.info().capacity, capacity.vms >= capacity.maxVMs else { return }
            let orphans = try await OrphanedVMRecord.query(on: context.database).sort(\.$orphanedAt).all()
            guard !orphans.isEmpty else { return }
            var deleted = false
            for orphan in orphans where !deleted {
                do {
                    try await delete(orphan, context: context, stage: "Deleting orphaned VMs to make room", index: 1, total: 1)
                    deleted = true
                } catch let error as DirectorError {
                    // Being deleted by the cleanup right now: try the next one.
                    guard error.code == LockManager.conflictCode else { throw error }
                }
            }
            if !deleted { try await Task.sleep(for: .seconds(1)) }
        }
    }
}
