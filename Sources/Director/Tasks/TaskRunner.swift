import BosunCore
import CPI
import FluentKit
import Foundation
import Logging
import ServiceLifecycle

/// The persistent task queue and its bounded worker pool. Tasks are rows (`queued` →
/// `processing` → `done`/`error`/`cancelled`); a restarted director marks the tasks it found
/// running as `error`, with the reason, and frees their locks. One owner for the running set and
/// the cancel requests: this actor.
public actor TaskRunner: Service {
    private let database: any Database
    private let tasksDirectory: String
    private let jobs: [String: any TaskJob]
    private let workers: Int
    private let logger: Logger
    private let cpi: any CloudProvider
    private let uploadsDirectory: String?
    let blobs: BlobStorage?
    private let metrics: DirectorMetrics?
    private let deploy: DeployEnvironment?
    public nonisolated let locks: LockManager
    private var running: Set<Int> = []
    private var cancelling: Set<Int> = []
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(
        database: any Database, tasksDirectory: String, jobs: [String: any TaskJob], cpi: any CloudProvider,
        uploadsDirectory: String? = nil, blobs: BlobStorage? = nil, metrics: DirectorMetrics? = nil, deploy: DeployEnvironment? = nil,
        workers: Int = 3, logger: Logger
    ) {
        self.metrics = metrics
        self.deploy = deploy
        self.blobs = blobs
        self.database = database
        self.uploadsDirectory = uploadsDirectory
        self.cpi = cpi
        self.tasksDirectory = tasksDirectory
        self.jobs = jobs
        self.workers = workers
        self.logger = logger
        self.locks = LockManager(database: database)
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public nonisolated func output(of taskID: Int) -> TaskOutput { TaskOutput(tasksDirectory: tasksDirectory, taskID: taskID) }

    /// Queues a task and returns it (with its id); a worker picks it up.
    public func enqueue(type: String, description: String, user: String, deployment: String? = nil, arguments: JSONValue = [:]) async throws
        -> TaskRecord
    {
        guard jobs[type] != nil else { throw DirectorError(.internalServerError, code: 100_000, "No task type '\(type)'") }
        let data = try JSONCoding.encoder.encode(arguments)
        let task = TaskRecord(
            type: type, description: description, user: user, deployment: deployment, arguments: String(decoding: data, as: UTF8.self),
            now: Date().timeIntervalSince1970)
        try await task.create(on: database)
        wake.yield()
        return task
    }

    /// `DELETE /task/<id>`: a queued task is cancelled at once, a running one is asked to stop
    /// at its next step. False when the task is over (or unknown).
    public func cancel(_ id: Int) async throws -> Bool {
        guard let task = try await TaskRecord.find(id, on: database) else { return false }
        switch task.state {
        case "queued":
            task.state = "cancelled"
            task.timestamp = Date().timeIntervalSince1970
            try await task.update(on: database)
            return true
        case "processing", "cancelling":
            cancelling.insert(id)
            task.state = "cancelling"
            task.timestamp = Date().timeIntervalSince1970
            try await task.update(on: database)
            return true
        default:
            return false
        }
    }

    private func isCancelling(_ id: Int) -> Bool { cancelling.contains(id) }

    /// Tasks a previous director left `processing` or `cancelling` can no longer finish; uploads
    /// no queued task will read are removed. Called before the API serves, so no client ever sees
    /// a dead director's task as still running.
    public func recoverAfterRestart() async throws {
        let stale = try await TaskRecord.query(on: database).filter(\.$state ~~ ["processing", "cancelling"]).all()
        for task in stale {
            let reason = "Director restarted while the task was running"
            try? TaskEventLog(output: output(of: task.id!)).error(code: 100_001, message: reason)
            task.state = "error"
            task.result = reason
            task.timestamp = Date().timeIntervalSince1970
            try await task.update(on: database)
            try await LockRecord.query(on: database).filter(\.$taskID == task.id!).delete()
            logger.warning("Marked an interrupted task as failed", metadata: ["director.task": "\(task.id!)"])
        }
        try await removeOrphanedUploads()
    }

    private func removeOrphanedUploads() async throws {
        guard let uploadsDirectory else { return }
        let queued = try await TaskRecord.query(on: database).filter(\.$state == "queued").all().map(\.arguments).joined()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: uploadsDirectory)) ?? [] where !queued.contains(entry) {
            try? FileManager.default.removeItem(atPath: uploadsDirectory + "/" + entry)
            logger.info("Removed an upload no task will read", metadata: ["director.upload": "\(entry)"])
        }
    }

    /// Runs queued tasks; `recoverAfterRestart()` has been called before.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            // Woken by an enqueue or a finished task; a tick every second catches anything missed.
            group.addTask { [wake] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    wake.yield()
                }
            }
            wake.yield()  // tasks queued before this start
            for await _ in wakeups.cancelOnGracefulShutdown() {
                for task in (try? await claim()) ?? [] {
                    group.addTask { await self.execute(task) }
                }
            }
            group.cancelAll()
        }
    }

    /// Marks as many queued tasks `processing` as there are free workers, oldest first.
    private func claim() async throws -> [TaskRecord] {
        let free = workers - running.count
        guard free > 0 else { return [] }
        let queued = try await TaskRecord.query(on: database).filter(\.$state == "queued").sort(\.$id).limit(free).all()
        let now = Date().timeIntervalSince1970
        for task in queued {
            task.state = "processing"
            task.startedAt = now
            task.timestamp = now
            try await task.update(on: database)
            running.insert(task.id!)
        }
        return queued
    }

    private func execute(_ task: TaskRecord) async {
        let id = task.id!
        let output = self.output(of: id)
        let events = TaskEventLog(output: output)
        let arguments = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(task.arguments.utf8))) ?? [:]
        let ledger = ExternalTimeLedger()
        let context = TaskContext(
            taskID: id, user: task.user, deployment: task.deployment, arguments: arguments, events: events, output: output,
            database: database, locks: locks, cpi: TimedCloudProvider(base: cpi, ledger: ledger), blobs: blobs,
            recorder: EventRecorder(database: database), deploy: deploy, ledger: ledger,
            isCancelling: { [weak self] in await self?.isCancelling(id) ?? true })
        var state = "done"
        var result: String?
        let clock = ContinuousClock.now
        do {
            events.debug("Starting task \(id): \(task.description)")
            result = try await jobs[task.type]!.run(context)
        } catch is TaskCancelled {
            state = "cancelled"
            result = "Task \(id) cancelled"
        } catch is CancellationError {
            state = "error"
            result = "Director shut down while the task was running"
            try? events.error(code: 100_001, message: result!)
        } catch {
            state = "error"
            result = "\(error)"
            try? events.error(code: (error as? DirectorError)?.code ?? 100_000, message: result!)
        }
        // The last events are written before the state flips: the CLI reads the state first.
        task.state = state
        task.result = result
        task.timestamp = Date().timeIntervalSince1970
        do {
            try await task.update(on: database)
        } catch {
            logger.error("Cannot record a task's end", metadata: ["director.task": "\(id)", "director.error": "\(error)"])
        }
        metrics?.taskFinished(type: task.type, state: state, duration: ContinuousClock.now - clock)
        finished(id)
    }

    private func finished(_ id: Int) {
        running.remove(id)
        cancelling.remove(id)
        wake.yield()
    }
}
