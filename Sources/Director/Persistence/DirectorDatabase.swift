import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The director's database: SQLite in the state directory by default, PostgreSQL when
/// `database.url` is set — the same models and migrations for both. Migrations run on open.
public final class DirectorDatabase: Sendable {
    private let databases: Databases
    private let logger: Logger
    /// What the rest of the director queries.
    public let database: any Database
    public let kind: Kind

    public enum Kind: String, Sendable {
        case sqlite, postgres
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private init(databases: Databases, database: any Database, kind: Kind, logger: Logger) {
        self.databases = databases
        self.database = database
        self.kind = kind
        self.logger = logger
    }

    /// Opens (creating the SQLite file if needed) and migrates.
    public static func open(_ configuration: DirectorConfiguration, logger: Logger) async throws -> DirectorDatabase {
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        let kind: Kind
        if let url = configuration.databaseURL {
            guard let parsed = URL(string: url), ["postgres", "postgresql"].contains(parsed.scheme ?? "") else {
                throw Failure(description: "database.url must be a postgres:// URL")
            }
            do {
                databases.use(try .postgres(url: parsed), as: .psql)
            } catch {
                throw Failure(description: "database.url is not usable: \(String(describing: type(of: error)))")
            }
            kind = .postgres
        } else {
            // Created private before SQLite opens it, so no moment exists where others can read it.
            if !FileManager.default.fileExists(atPath: configuration.databasePath) {
                _ = FileManager.default.createFile(atPath: configuration.databasePath, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            databases.use(.sqlite(.file(configuration.databasePath)), as: .sqlite)
            kind = .sqlite
        }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        guard let database = databases.database(logger: logger, on: eventLoop) else {
            throw Failure(description: "no database configured")
        }
        let migrations = Migrations()
        migrations.add(DirectorMigrations.all)
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoop)
        do {
            try await migrator.setupIfNeeded().get()
            try await migrator.prepareBatch().get()
        } catch {
            await databases.shutdownAsync()
            // Connection errors can carry the URL with its password; say only what kind failed.
            throw Failure(description: "cannot prepare the \(kind.rawValue) database: \(Self.describe(error))")
        }
        return DirectorDatabase(databases: databases, database: database, kind: kind, logger: logger)
    }

    public func shutdown() async {
        await databases.shutdownAsync()
    }

    private static func describe(_ error: any Error) -> String {
        let text = String(reflecting: error)
        return text.contains("://") ? String(describing: type(of: error)) : text
    }
}
