import BosunCore
import FluentKit
import Foundation
import Logging
import ServiceLifecycle

/// `scheduled_orphaned_vm_cleanup`: deletes orphaned VMs; queued by `ScheduledCleanup`.
struct OrphanedVMCleanupJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        Self.summary(try await OrphanedVMs.deleteAll(context: context))
    }

    static func summary(_ result: OrphanedVMs.CleanupResult) -> String {
        var line = "Deleted \(result.deleted.count) orphaned VM\(result.deleted.count == 1 ? "" : "s")"
        if !result.failed.isEmpty {
            line +=
                "; \(result.failed.count) left for the next round: \(result.failed.keys.sorted().joined(separator: ", "))"
        }
        return line
    }
}

/// `scheduled_orphaned_disk_cleanup`: deletes orphaned disks older than `max_age_seconds`.
struct OrphanedDiskCleanupJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let count = try await OrphanedDisks.deleteAll(
            olderThan: Self.seconds(context.arguments["max_age_seconds"]), context: context)
        return "Deleted \(count) orphaned disk\(count == 1 ? "" : "s")"
    }

    static func seconds(_ value: JSONValue?) -> Double {
        switch value {
        case .double(let seconds)?: seconds
        case .int(let seconds)?: Double(seconds)
        default: 0
        }
    }
}

/// `clean_up` (`POST /cleanup`, `bosun clean-up [--all]`): deletes orphaned VMs and, with
/// `--all`, every orphaned disk. It fails when an orphaned VM could not be deleted, so the
/// operator sees it (the scheduled cleanup just retries).
struct CleanupJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let result = try await OrphanedVMs.deleteAll(context: context)
        var summary = OrphanedVMCleanupJob.summary(result)
        let archives = try await RenderedArchives.sweepAll(context: context)
        if archives > 0 { summary += ", \(archives) unused rendered template archive\(archives == 1 ? "" : "s")" }
        if context.arguments["remove_all"] == .bool(true) {
            let disks = try await OrphanedDisks.deleteAll(olderThan: nil, context: context)
            summary += ", \(disks) orphaned disk\(disks == 1 ? "" : "s")"
        }
        guard result.failed.isEmpty else {
            throw DeployError(
                summary + ". "
                    + result.failed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        }
        return summary
    }
}

/// Every `interval` (BOSH's `director.vms.cleanup_schedule`, every 5 minutes by default): queues
/// the deletion of orphaned VMs when there are some, and of orphaned disks older than
/// `maxDiskAge` (BOSH's `max_orphaned_age_in_days`, 5 days) when there are such — each only when
/// none is queued or running already.
public struct ScheduledCleanup: Service {
    let tasks: TaskRunner
    let database: any Database
    let interval: Duration
    let maxDiskAge: Double
    let logger: Logger

    public init(
        tasks: TaskRunner, database: any Database, interval: Duration, maxDiskAgeSeconds: Double, logger: Logger
    ) {
        self.tasks = tasks
        self.database = database
        self.interval = interval
        self.maxDiskAge = maxDiskAgeSeconds
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
                logger.warning("Scheduling the cleanup failed", metadata: ["director.error": "\(error)"])
            }
        }
    }

    func queueIfNeeded() async throws {
        let orphanedVMs = try await OrphanedVMRecord.query(on: database).count()
        let vmCleanupPending = try await pending("scheduled_orphaned_vm_cleanup")
        if orphanedVMs > 0 && !vmCleanupPending {
            _ = try await tasks.enqueue(
                type: "scheduled_orphaned_vm_cleanup", description: "scheduled OrphanedVMCleanup", user: "scheduler")
        }
        let cutoff = Date().timeIntervalSince1970 - maxDiskAge
        let expired = try await OrphanedDiskRecord.query(on: database).filter(\.$orphanedAt <= cutoff).count()
        let diskCleanupPending = try await pending("scheduled_orphaned_disk_cleanup")
        if expired > 0 && !diskCleanupPending {
            _ = try await tasks.enqueue(
                type: "scheduled_orphaned_disk_cleanup", description: "scheduled OrphanedDiskCleanup",
                user: "scheduler",
                arguments: ["max_age_seconds": .double(maxDiskAge)])
        }
    }

    private func pending(_ type: String) async throws -> Bool {
        try await !TaskRecord.open(type, on: database).isEmpty
    }
}
