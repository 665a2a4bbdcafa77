import BosunCore
import CPI
import FluentKit
import Foundation

/// One kind of task the director runs (`update_release`, `delete_stemcell`, …), registered under
/// its type name.
public protocol TaskJob: Sendable {
    /// Does the work. Returns the one-line `result` `bosh tasks` shows (the result output, if
    /// any, is written through `context.output`). Long jobs call `context.checkCancelled()`
    /// between steps.
    func run(_ context: TaskContext) async throws -> String?
}

/// Thrown by `checkCancelled` once `DELETE /task/<id>` asked for it.
public struct TaskCancelled: Error, CustomStringConvertible {
    public var description: String { "Task cancelled" }
}

/// What a running task may use.
public struct TaskContext: Sendable {
    public let taskID: Int
    public let user: String
    public let deployment: String?
    /// The input the task was queued with.
    public let arguments: JSONValue
    public let events: TaskEventLog
    public let output: TaskOutput
    public let database: any Database
    public let locks: LockManager
    public let cpi: any CloudProvider
    /// The director's blobstore (releases' jobs and packages, compiled packages, logs).
    public let blobs: BlobStorage?
    /// Records what the task did for `/events`.
    public let recorder: EventRecorder
    /// Agents, config server and renderer, for deploys; nil on a director that cannot deploy.
    public let deploy: DeployEnvironment?
    /// Time spent waiting on the CPI, agents and the renderer, for the director's own share.
    public let ledger: ExternalTimeLedger
    let isCancelling: @Sendable () async -> Bool

    /// Throws `TaskCancelled` when the task was asked to stop; call between steps.
    public func checkCancelled() async throws {
        if await isCancelling() { throw TaskCancelled() }
    }

    /// Runs `body` holding the lock on `deployment` (or another resource), renewed while it runs.
    public func withDeploymentLock<T: Sendable>(_ name: String, _ body: () async throws -> T) async throws -> T {
        try await locks.withLock(type: "deployment", resource: [name], taskID: taskID, user: user, body)
    }
}
