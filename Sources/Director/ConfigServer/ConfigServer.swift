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
        let data = try JSONCoding.encoder.encode(JSONValue(yaml: value))
        guard let combined = try AES.GCM.seal(data, using: key).combined else { throw Failure(description: "sealing failed") }
        return combined.base64EncodedString()
    }

    func open(_ sealed: String) throws -> YAMLValue {
        guard let data = Data(base64Encoded: sealed) else { throw Failure(description: "a stored variable is not base64") }
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key)
        return YAMLValue(json: try JSONCoding.decoder.decode(JSONValue.self, from: plain))
    }

    /// Every stored value under `/<director>/<deployment>/`, opened.
    func values(of deployment: String, on database: any Database) async throws -> [String: YAMLValue] {
        let prefix = "/\(directorName)/\(deployment)/"
        var values: [String: YAMLValue] = [:]
        for record in try await VariableRecord.query(on: database).filter(\.$name >= prefix).filter(\.$name < prefix + "\u{10FFFF}").all() {
            values[record.name] = try open(record.sealedValue)
        }
        return values
    }

    func store(_ values: [String: YAMLValue], on database: any Database) async throws {
        for (name, value) in values {
            let record = VariableRecord()
            record.name = name
            record.sealedValue = try seal(value)
            record.createdAt = Date().timeIntervalSince1970
            try await record.save(on: database)
        }
    }

    /// Removes every value of a deployment (when the deployment is deleted).
    func deleteValues(of deployment: String, on database: any Database) async throws {
        let prefix = "/\(directorName)/\(deployment)/"
        try await VariableRecord.query(on: database).filter(\.$name >= prefix).filter(\.$name < prefix + "\u{10FFFF}").delete()
    }
}

/// `((variables))` of one deploy: stored values first, then generated ones for typed definitions.
/// Generated values are only kept in memory until the deploy stores them, so a deploy that fails
/// validation stores nothing.
/// Used by one deploy task at a time, start to end; never shared between tasks.
final class DeploymentVariables: VariableSource, @unchecked Sendable {
    let server: ConfigServer
    let deployment: String
    private(set) var known: [String: YAMLValue]
    private(set) var generated: [String: YAMLValue] = [:]
    /// Values handed out, for redacting them from errors.
    private(set) var used: [YAMLValue] = []

    init(server: ConfigServer, deployment: String, stored: [String: YAMLValue]) {
        self.server = server
        self.deployment = deployment
        self.known = stored
    }

    func value(for definition: VariableDefinition) throws -> YAMLValue? {
        let name = server.fullName(definition.name, deployment: deployment)
        if let value = known[name] {
            used.append(value)
            return value
        }
        guard !definition.type.isEmpty else { return nil }
        let value = try CredentialGenerator().generate(definition) { other in
            self.known[self.server.fullName(other, deployment: self.deployment)]
        }
        known[name] = value
        generated[name] = value
        used.append(value)
        return value
    }

    func names() -> [String] { Array(known.keys) }

    /// Every string inside the values handed out (passwords, keys, certificates).
    var secretStrings: [String] {
        var strings: [String] = []
        func collect(_ value: YAMLValue) {
            switch value {
            case .string(let text) where text.count >= 4: strings.append(text)
            case .array(let items): items.forEach(collect)
            case .map(let map): map.values.forEach(collect)
            default: break
            }
        }
        used.forEach(collect)
        return strings
    }
}
