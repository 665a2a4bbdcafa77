import BosunCore
import Credentials
import Foundation

/// `((variables))` of one deploy: stored values first, then generated ones for typed definitions.
/// Generated values are only kept in memory until the deploy stores them, so a deploy that fails
/// validation stores nothing.
/// Used by one deploy task at a time, start to end; never shared between tasks.
final class DeploymentVariables: VariableSource, @unchecked Sendable {
    let server: ConfigServer
    let deployment: String
    /// The deployment's stemcells (`name/version`, sorted), kept with generated values.
    let stemcells: String
    private(set) var known: [String: YAMLValue]
    private(set) var generated: [String: GeneratedVariable] = [:]
    /// Definitions by full name, so a certificate's CA can be made on demand whatever the order.
    private let definitions: [String: VariableRotation.Policy]
    /// Values handed out, and values being replaced: both kept out of errors.
    private(set) var used: [YAMLValue] = []
    /// Full names of the values handed out: the deploy's variable set.
    private(set) var usedNames: Set<String> = []
    /// The ids of the stored values this deploy may use.
    let storedIDs: [String: String]

    /// - Parameter regenerate: full names whose stored values are replaced by new ones.
    init(
        server: ConfigServer, deployment: String, stored: [String: StoredVariable], rotation: VariableRotation = VariableRotation(manifestText: ""),
        regenerate: Set<String> = [], stemcells: String = ""
    ) {
        self.server = server
        self.deployment = deployment
        self.stemcells = stemcells
        var known: [String: YAMLValue] = [:]
        storedIDs = stored.filter { !regenerate.contains($0.key) }.mapValues(\.valueID)
        for (name, variable) in stored {
            if regenerate.contains(name) { used.append(variable.value) } else { known[name] = variable.value }
        }
        self.known = known
        definitions = Dictionary(
            rotation.policies.map { (server.fullName($0.name, deployment: deployment), $0) }, uniquingKeysWith: { first, _ in first })
    }

    func value(for definition: VariableDefinition) throws -> YAMLValue? {
        let name = server.fullName(definition.name, deployment: deployment)
        if let value = known[name] {
            used.append(value)
            usedNames.insert(name)
            return value
        }
        guard !definition.type.isEmpty else { return nil }
        let value = try CredentialGenerator().generate(definition) { other in
            let otherName = self.server.fullName(other, deployment: self.deployment)
            if let value = self.known[otherName] { return value }
            guard let policy = self.definitions[otherName], !policy.type.isEmpty else { return nil }
            return try self.value(for: VariableDefinition(name: other, type: policy.type, options: policy.options))
        }
        known[name] = value
        generated[name] = GeneratedVariable(
            value: value, optionsDigest: VariableRotation.digest(type: definition.type, options: definitions[name]?.options ?? definition.options),
            stemcells: stemcells)
        used.append(value)
        usedNames.insert(name)
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
