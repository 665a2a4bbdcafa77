import BosunCore
import Foundation

/// Whether the resurrector may recreate an instance: the global switch (`bosun
/// update-resurrection on|off`, `PUT /resurrection`) and the `resurrection` configs' rules
/// (`bosun update-config --type resurrection`): each rule applies to the instances its `include`
/// names (every instance when absent) and its `exclude` does not, and an instance may be
/// recreated only if every rule that applies to it is `enabled` (BOSH's semantics).
struct ResurrectionRules: Sendable {
    struct Rule: Sendable {
        var config: String
        var enabled: Bool
        var include: Filter
        var exclude: Filter
    }

    struct Filter: Sendable {
        var deployments: [String]?
        var instanceGroups: [String]?

        init(_ node: YAMLValue?) {
            deployments = node?["deployments"]?.arrayValue?.compactMap(\.stringValue)
            instanceGroups = node?["instance_groups"]?.arrayValue?.compactMap(\.stringValue)
        }

        var isEmpty: Bool { deployments == nil && instanceGroups == nil }

        func matches(deployment: String, group: String) -> Bool {
            (deployments.map { $0.contains(deployment) } ?? true) && (instanceGroups.map { $0.contains(group) } ?? true)
        }
    }

    var rules: [Rule] = []

    /// Rules from configs' texts (`name` → YAML); unreadable configs are reported in `problems`.
    init(configs: [(name: String, content: String)]) {
        for config in configs {
            guard let document = try? YAMLValue.parse(config.content, source: "resurrection config '\(config.name)'"),
                case .array(let entries)? = document["rules"]
            else { continue }
            for entry in entries {
                let enabled: Bool
                if case .bool(let value)? = entry["enabled"] { enabled = value } else { enabled = true }
                rules.append(Rule(config: config.name, enabled: enabled, include: Filter(entry["include"]), exclude: Filter(entry["exclude"])))
            }
        }
    }

    /// The config of the first rule that forbids it, nil when the instance may be recreated.
    func disablingConfig(deployment: String, group: String) -> String? {
        rules.first { rule in
            !rule.enabled && rule.include.matches(deployment: deployment, group: group)
                && (rule.exclude.isEmpty || !rule.exclude.matches(deployment: deployment, group: group))
        }?.config
    }
}

/// The global switch, a file in the state directory so it survives restarts.
struct ResurrectionSwitch: Sendable {
    let path: String

    init(stateDirectory: String) { path = stateDirectory + "/resurrection-paused" }

    var isPaused: Bool { FileManager.default.fileExists(atPath: path) }

    func set(paused: Bool) throws {
        if paused {
            guard FileManager.default.createFile(atPath: path, contents: Data("paused by update-resurrection off\n".utf8)) else {
                throw DirectorError(.internalServerError, code: 100_000, "Cannot write \(path)")
            }
        } else if FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }
}
