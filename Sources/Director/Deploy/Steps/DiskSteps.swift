import BosunCore
import CPI
import FluentKit
import Foundation

/// Persistent disk calls that tolerate what is already done, so a retried deploy or deletion
/// does not fail on a disk that a previous attempt detached or deleted.
struct DiskSteps: Sendable {
    let context: TaskContext

    /// Detaches the disk; one that is not attached (or whose VM is gone) counts as detached.
    func detach(_ disk: String, from vm: String) async throws {
        do {
            try await context.cpi.detachDisk(vmCID: vm, diskCID: disk)
        } catch {
            guard error.kind == .diskNotAttached || error.kind == .vmNotFound else { throw error }
        }
    }

    /// Deletes the disk (one the IaaS no longer has counts as deleted) and forgets it.
    func delete(_ disk: PersistentDiskRecord) async throws {
        if let cid = disk.cid { try await context.deleteDiskIfPresent(cid) }
        try await disk.delete(on: context.database)
    }
}
