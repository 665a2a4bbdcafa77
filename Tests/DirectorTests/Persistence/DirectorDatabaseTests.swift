import Director
import FluentKit
import Foundation
import Logging
import Testing
import TestSupport

/// The same models and migrations on SQLite (a file in the state directory) and on a real
/// PostgreSQL server.
@Suite("Director database")
struct DirectorDatabaseTests {
    enum Backend: String, CaseIterable, Sendable { case sqlite, postgres }

    /// Runs `body` with a configuration whose database is the backend's, on a fresh state directory.
    static func withConfiguration(
        _ backend: Backend, _ body: @escaping @Sendable (DirectorConfiguration) async throws -> Void
    ) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-db-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        switch backend {
        case .sqlite: try await body(DirectorConfiguration(stateDirectory: state))
        case .postgres: try await withPostgres { url in try await body(DirectorConfiguration(stateDirectory: state, databaseURL: url)) }
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "db-test")
        logger.logLevel = .critical
        return logger
    }

    @Test("migrations run once; records survive a reopen", arguments: Backend.allCases)
    func migrateStoreReopen(backend: Backend) async throws {
        try await Self.withConfiguration(backend) { configuration in
            let first = try await DirectorDatabase.open(configuration, logger: Self.logger)
            #expect(first.kind.rawValue == backend.rawValue)
            let task = TaskRecord(type: "update_release", description: "create release", user: "admin", deployment: nil, arguments: "{}", now: 1_700_000_000)
            try await task.save(on: first.database)
            let config = ConfigRecord(type: "cloud", name: "default", content: "azs: []\n", createdAt: 1_700_000_001)
            try await config.save(on: first.database)
            try await LockRecord(name: "lock:deployment:web", type: "deployment", resource: ["web"], taskID: task.id!, expiresAt: 1_700_000_060)
                .save(on: first.database)
            // A second lock on the same resource is refused by the database itself.
            await #expect(throws: (any Error).self) {
                try await LockRecord(name: "lock:deployment:web", type: "deployment", resource: ["web"], taskID: 99, expiresAt: 0)
                    .save(on: first.database)
            }
            await first.shutdown()

            let second = try await DirectorDatabase.open(configuration, logger: Self.logger)
            let tasks = try await TaskRecord.query(on: second.database).all()
            #expect(tasks.map(\.description) == ["create release"])
            #expect(tasks.first?.state == "queued")
            #expect(try await ConfigRecord.query(on: second.database).filter(\.$type == "cloud").first()?.content == "azs: []\n")
            #expect(try await LockRecord.query(on: second.database).count() == 1)
            await second.shutdown()
            if backend == .sqlite {
                let mode = try FileManager.default.attributesOfItem(atPath: configuration.databasePath)[.posixPermissions] as? Int
                #expect(mode == 0o600)
            }
        }
    }

    @Test("a database URL that is not PostgreSQL is refused without echoing it")
    func badURL() async throws {
        let configuration = DirectorConfiguration(stateDirectory: "/tmp", databaseURL: "mysql://root:hunter2@db/bosh")
        await #expect {
            _ = try await DirectorDatabase.open(configuration, logger: Self.logger)
        } throws: { error in
            "\(error)".contains("postgres://") && !"\(error)".contains("hunter2")
        }
    }
}
