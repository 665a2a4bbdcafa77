import FluentKit
import Foundation

/// Deployment (and other) locks as rows: the database's unique index makes acquiring atomic, a
/// deadline the holder keeps pushing forward lets a crashed holder's lock lapse, and a restarted
/// director removes the locks of tasks it marks failed.
public struct LockManager: Sendable {
    let database: any Database
    /// How long a lock stays valid without renewal; it is renewed at a third of that.
    let timeout: Double

    public init(database: any Database, timeout: Double = 60) {
        self.database = database
        self.timeout = timeout
    }

    /// BOSH's error code for a lock another task holds.
    static let conflictCode = 100_100

    static func name(type: String, resource: [String]) -> String {
        "lock:\(type):" + resource.joined(separator: ":")
    }

    /// Takes the lock or fails naming who holds it.
    func acquire(type: String, resource: [String], taskID: Int) async throws -> LockRecord {
        let name = Self.name(type: type, resource: resource)
        let now = Date().timeIntervalSince1970
        // A lapsed lock (its holder died without a restart) is cleared first.
        try await LockRecord.query(on: database).filter(\.$name == name).filter(\.$expiresAt < now).delete()
        let lock = LockRecord(name: name, type: type, resource: resource, taskID: taskID, expiresAt: now + timeout)
        do {
            try await lock.create(on: database)
        } catch {
            let holder = try? await LockRecord.query(on: database).filter(\.$name == name).first()
            throw DirectorError(
                .conflict, code: Self.conflictCode,
                "Failed to acquire lock for \(name) uid: \(holder.map { "task \($0.taskID)" } ?? "another task")")
        }
        return lock
    }

    public func withLock<T: Sendable>(
        type: String, resource: [String], taskID: Int, user: String = "", _ body: () async throws -> T
    ) async throws -> T {
        let lock = try await acquire(type: type, resource: resource, taskID: taskID)
        let events = EventRecorder(database: database)
        _ = try? await events.record(user: user, action: "acquire", objectType: "lock", objectName: lock.name, task: taskID)
        let database = self.database
        let timeout = self.timeout
        let renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(timeout / 3))
                guard !Task.isCancelled else { return }
                lock.expiresAt = Date().timeIntervalSince1970 + timeout
                try? await lock.update(on: database)
            }
        }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        renewal.cancel()
        if case .success = outcome {
            try await lock.delete(on: database)
        } else {
            try? await lock.delete(on: database)
        }
        _ = try? await events.record(user: user, action: "release", objectType: "lock", objectName: lock.name, task: taskID)
        return try outcome.get()
    }

    /// Live locks, as `GET /locks` lists them.
    public func current() async throws -> [LockRecord] {
        try await LockRecord.query(on: database).filter(\.$expiresAt >= Date().timeIntervalSince1970).sort(\.$id).all()
    }
}
