import BosunCore
import FluentKit
import Foundation

/// Versions of configs by type and name (`cloud`, `runtime`, `cpi`, `resurrection`, or any other
/// type): every update adds a version, the newest live one is current, a delete hides them all.
/// Known types are validated with BosunCore's readers before anything is stored.
public struct ConfigStore: Sendable {
    let database: any Database
    let events: EventRecorder

    public init(database: any Database) {
        self.database = database
        self.events = EventRecorder(database: database)
    }

    /// Checks a config's content for its type; every problem with its YAML path.
    public static func validate(type: String, content: String) throws {
        do {
            switch type {
            case "cloud": _ = try CloudConfig(parsing: content)
            case "runtime": _ = try RuntimeConfig(parsing: content)
            case "cpi":
                // Stored and then ignored, every VM would still go to the one CPI.
                throw DirectorError(
                    .badRequest, code: 440_001,
                    "cpi config: Bosun drives one CPI (the director's cpi setting) and does not support cpi-config yet")
            default:
                let yaml = try YAMLValue.parse(content, source: "\(type) config")
                guard case .map = yaml else {
                    throw DirectorError(.badRequest, code: 440_001, "\(type) config must be a YAML map")
                }
            }
        } catch let error as ManifestValidationError {
            throw DirectorError(.badRequest, code: 440_001, error.description)
        } catch let error as YAMLSyntaxError {
            throw DirectorError(.badRequest, code: 440_001, error.description)
        }
    }

    public func latest(type: String, name: String) async throws -> ConfigRecord? {
        try await ConfigRecord.query(on: database).filter(\.$type == type).filter(\.$name == name).filter(
            \.$deleted == false
        )
        .sort(\.$id, .descending).first()
    }

    /// Stores a new version unless it equals the current one (then the current one is returned).
    /// `expectedLatestID` guards against a concurrent update (412 when it is stale).
    public func update(
        type: String, name: String, content: String, user: String, expectedLatestID: Int? = nil
    ) async throws
        -> (config: ConfigRecord, created: Bool)
    {
        guard !type.isEmpty else { throw DirectorError(.badRequest, code: 440_001, "Config type must not be empty") }
        try Self.validate(type: type, content: content)
        let current = try await latest(type: type, name: name)
        if let expectedLatestID, expectedLatestID != (current?.id ?? 0) {
            throw ConfigConflict(latestID: current?.id ?? 0, expectedLatestID: expectedLatestID)
        }
        if let current, current.content == content { return (current, false) }
        let config = ConfigRecord(type: type, name: name, content: content, createdAt: Date().timeIntervalSince1970)
        try await config.create(on: database)
        try await events.record(user: user, action: "update", objectType: "config", objectName: "\(type)/\(name)")
        return (config, true)
    }

    /// Hides every version of a config; false when there was none.
    public func delete(type: String, name: String, user: String) async throws -> Bool {
        let live = try await ConfigRecord.query(on: database).filter(\.$type == type).filter(\.$name == name).filter(
            \.$deleted == false
        ).all()
        guard !live.isEmpty else { return false }
        for config in live {
            config.deleted = true
            try await config.update(on: database)
        }
        try await events.record(user: user, action: "delete", objectType: "config", objectName: "\(type)/\(name)")
        return true
    }

    /// Newest first; `latest` keeps only the current version of each type and name.
    public func list(type: String?, name: String?, latest: Bool, limit: Int?) async throws -> [ConfigRecord] {
        var query = ConfigRecord.query(on: database).filter(\.$deleted == false).sort(\.$id, .descending)
        if let type, !type.isEmpty { query = query.filter(\.$type == type) }
        if let name { query = query.filter(\.$name == name) }
        var configs = try await query.all()
        if latest {
            var seen = Set<String>()
            configs = configs.filter { seen.insert($0.type + "\u{0}" + $0.name).inserted }
        }
        if let limit, limit > 0 { configs = Array(configs.prefix(limit)) }
        return configs
    }

    /// The ids of the current version of every (type, name), to mark `current` in lists.
    public func currentIDs() async throws -> Set<Int> {
        Set(try await list(type: nil, name: nil, latest: true, limit: nil).compactMap(\.id))
    }
}

/// `expected_latest_id` no longer names the current version.
public struct ConfigConflict: Error {
    public var latestID: Int
    public var expectedLatestID: Int
}

/// A line diff of two texts in the shape the CLI prints: `[line, "added" | "removed" | null]`.
public enum LineDiff {
    public static func diff(from old: String, to new: String) -> [JSONValue] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        // Longest common subsequence table, then a walk that emits removals before additions.
        var lengths = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var rows: [JSONValue] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                rows.append([.string(a[i]), .null]); i += 1; j += 1
            } else if j == b.count || (i < a.count && lengths[i + 1][j] >= lengths[i][j + 1]) {
                rows.append([.string(a[i]), "removed"]); i += 1
            } else {
                rows.append([.string(b[j]), "added"]); j += 1
            }
        }
        return rows
    }
}
