import BosunCore
import FluentKit
import Foundation
import Logging
import ServiceLifecycle

/// `scheduled_orphaned_vm_cleanup`: deletes orphaned VMs; queued by `OrphanedVMCleanupScheduler`.
struct OrphanedVMCleanupJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let result = try await OrphanedVMs.deleteAll(context: context)
        return Self.summary(result)
    }

    static func summary(_ result: OrphanedVMs.CleanupResult) -> String {
        var line = "Deleted \(result.deleted.count) orphaned VM\(result.deleted.count == 1 ? "" : "s")"
        if !result.failed.isEmpty { line += "; \(result.failed.count) left for the next round: \(result.failed.keys.sorted().joined(separator: ", "))" }
        return line
    }
}

/// `clean_up` (`POST /cleans`, `bosun clean-up [--all]`): deletes orphaned VMs. It fails when
/// one could not be deleted, so the operator sees it (the scheduled cleanup just retries).
struct CleanupJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let result = try await OrphanedVMs.deleteAll(context: context)
        let summary = OrphanedVMCleanupJob.summary(result)
        guard result.failed.isEmpty else {
            throw DeployError(summary + ". " + result.failed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        }
        return summary
    }
}

/// Queues `scheduled_orphaned_vm_cleanup` every `interval` when there are orphaned VMs (BOSH's
/// `director.vms.cleanup_schedule`, every 5 minutes by default), unless one is already queued
/// or running.
public struct OrphanedVMCleanupScheduler: Service {
    let tasks: TaskRunner
    let database: any Database
    let interval: Duration
    let logger: Logger

    public init(tasks: TaskRunner, database: any Database, interval: Duration, logger: Logger) {
        self.tasks = tasks
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await queueIfNeeded()
            } catch {
                logger.warning("Scheduling the orphaned VM cleanup failed", metadata: ["director.error": "\(error)"])
            }
        }
    }

    func queueIfNeeded() async throws {
        guard try await OrphanedVMRecord.query(on: database).count() > 0 else { return }
        let pending = try await TaskRecord.query(on: database)
            .filter(\.$type == "scheduled_orphaned_vm_cleanup").filter(\.$state ~~ ["queued", "processing"]).count()
        guard pending == 0 else { return }
        _ = try await tasks.enqueue(type: "scheduled_orphaned_vm_cleanup", description: "scheduled OrphanedVMCleanup", user: "scheduler")
    }
}
