import BosunCore
import Credentials
import Crypto
import FluentKit
import Foundation

/// The director's config server: variable values by full name (`/<director>/<deployment>/<name>`),
/// generated on first use for typed `variables:` entries and kept sealed (AES-GCM, key in the state
/// directory, 0600) in the database, so neither the database nor its backups hold a secret in clear.
public struct ConfigServer: Sendable {
    let key: SymmetricKey
    let directorName: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads the sealing key from `keyPath`, making it on first use.
    public init(keyPath: String, directorName: String) throws {
        if let data = FileManager.default.contents(atPath: keyPath), data.count == 32 {
            key = SymmetricKey(data: data)
        } else {
            let fresh = SymmetricKey(size: .bits256)
            let data = fresh.withUnsafeBytes { Data($0) }
            guard FileManager.default.createFile(atPath: keyPath, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw Failure(description: "cannot write the config server key \(keyPath)")
            }
            key = fresh
        }
        self.directorName = directorName
    }

    /// The full name of a deployment's variable; names starting with `/` are already absolute.
    public func fullName(_ name: String, deployment: String) -> String {
        name.hasPrefix("/") ? name : "/\(directorName)/\(deployment)/\(name)"
    }

    func seal(_ value: YAMLValue) throws -> String {
        try seal(data: try JSONCoding.encoder.encode(JSONValue(yaml: value)))
    }

    func open(_ sealed: String) throws -> YAMLValue {
        YAMLValue(json: try JSONCoding.decoder.decode(JSONValue.self, from: try open(data: sealed)))
    }

    /// Seals any secret bytes (rendered templates kept for re-delivery) with the same key.
    func seal(data: Data) throws -> String {
        guard let combined = try AES.GCM.seal(data, using: key).combined else { throw Failure(description: "sealing failed") }
        return combined.base64EncodedString()
    }

    func open(data sealed: String) throws -> Data {
        guard let data = Data(base64Encoded: sealed) else { throw Failure(description: "a sealed value is not base64") }
        return try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key)
    }

    /// Every stored value under `/<director>/<deployment>/`, opened, with what decides whether a
    /// deploy regenerates it.
    func values(of deployment: String, on database: any Database) async throws -> [String: StoredVariable] {
        var values: [String: StoredVariable] = [:]
        for record in try await records(of: deployment, on: database) {
            values[record.name] = StoredVariable(
                value: try open(record.sealedValue), valueID: record.valueID ?? String(record.id ?? 0), optionsDigest: record.optionsDigest,
                stemcells: record.stemcells)
        }
        return values
    }

    /// The records of a deployment's values, sealed, by name.
    func records(of deployment: String, on database: any Database) async throws -> [VariableRecord] {
        let prefix = "/\(directorName)/\(deployment)/"
        return try await VariableRecord.query(on: database).named(under: prefix).sort(\.$name).all()
    }

    /// Keeps generated values: a new value of a name becomes its current one, with a new id;
    /// every version stays (`variable_versions`). Returns the new ids by name.
    @discardableResult
    func store(_ values: [String: GeneratedVariable], on database: any Database) async throws -> [String: String] {
        var ids: [String: String] = [:]
        for (name, generated) in values {
            let record = try await VariableRecord.query(on: database).filter(\.$name == name).first() ?? VariableRecord()
            let sealed = try seal(generated.value)
            let valueID = UUID().uuidString.lowercased()
            let version = VariableVersionRecord()
            version.name = name
            version.valueID = valueID
            version.sealedValue = sealed
            version.createdAt = Date().timeIntervalSince1970
            try await version.save(on: database)
            ids[name] = valueID
            record.name = name
            record.sealedValue = sealed
            record.valueID = valueID
            record.optionsDigest = generated.optionsDigest
            record.stemcells = generated.stemcells
            record.createdAt = Date().timeIntervalSince1970
            try await record.save(on: database)
        }
        return ids
    }

    /// Stores what a deploy generated and records its variable set: the id of every value it
    /// rendered with (`deployed` once the deploy succeeds).
    func storeAndRecordSet(_ variables: DeploymentVariables, on database: any Database) async throws -> VariableSetRecord {
        let fresh = try await store(variables.generated, on: database)
        var ids: [String: String] = [:]
        for name in variables.usedNames { ids[name] = fresh[name] ?? variables.storedIDs[name] }
        let set = VariableSetRecord()
        set.deployment = variables.deployment
        set.valueIDs = try JSONCoding.string(ids)
        set.deployed = false
        set.createdAt = Date().timeIntervalSince1970
        try await set.save(on: database)
        return set
    }

    /// Removes every value, version and variable set of a deployment (when it is deleted).
    func deleteValues(of deployment: String, on database: any Database) async throws {
        let prefix = "/\(directorName)/\(deployment)/"
        try await VariableRecord.query(on: database).named(under: prefix).delete()
        try await VariableVersionRecord.query(on: database).named(under: prefix).delete()
        try await VariableSetRecord.query(on: database).filter(\.$deployment == deployment).delete()
    }
}

/// A stored value and what decides whether a deploy regenerates it.
struct StoredVariable: Sendable {
    var value: YAMLValue
    /// What `bosun variables` lists as its id.
    var valueID: String
    var optionsDigest: String?
    var stemcells: String?
}

/// A value a deploy generated, to be stored once the deploy has checked everything.
struct GeneratedVariable: Sendable {
    var value: YAMLValue
    var optionsDigest: String
    var stemcells: String
}

/// Records named by a variable's full name (`/<director>/<deployment>/<name>`).
protocol VariableNamed: Model {
    static var nameField: KeyPath<Self, FieldProperty<Self, String>> { get }
}

extension VariableRecord: VariableNamed {
    static var nameField: KeyPath<VariableRecord, FieldProperty<VariableRecord, String>> { \.$name }
}

extension VariableVersionRecord: VariableNamed {
    static var nameField: KeyPath<VariableVersionRecord, FieldProperty<VariableVersionRecord, String>> { \.$name }
}

extension QueryBuilder where Model: VariableNamed {
    /// Names starting with `prefix` (one deployment's variables: `/<director>/<deployment>/`).
    func named(under prefix: String) -> Self {
        filter(Model.nameField >= prefix).filter(Model.nameField < prefix + "\u{10FFFF}")
    }
}
