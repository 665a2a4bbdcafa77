import BosunCore
import Crypto
import Foundation

/// What a manifest's `variables:` say about keeping or regenerating values (reference §5.5),
/// read from the manifest as written (before interpolation), so a deploy knows which values to
/// make anew before any `((name))` is resolved.
struct VariableRotation: Sendable {
    struct Policy: Sendable, Equatable {
        var name: String
        var type: String
        var options: YAMLValue
        /// `no-overwrite` (default), `overwrite` or `converge`.
        var updateMode: String
        /// `on-deploy` (default) or `on-stemcell-change`.
        var strategy: String
        /// For certificates: the CA variable that signs it.
        var ca: String? { options["ca"]?.stringValue }
    }

    var policies: [Policy]

    /// The `variables:` of `manifestText`; an unreadable manifest has none (the deploy reports it).
    init(manifestText: String) {
        guard let document = try? YAMLValue.parse(manifestText, source: "manifest"), case .array(let entries)? = document["variables"] else {
            policies = []
            return
        }
        policies = entries.compactMap { entry in
            guard let name = entry["name"]?.stringValue else { return nil }
            return Policy(
                name: name, type: entry["type"]?.stringValue ?? "", options: entry["options"] ?? .null,
                updateMode: entry["update_mode"]?.stringValue ?? "no-overwrite",
                strategy: entry["update"]?["strategy"]?.stringValue ?? "on-deploy")
        }
    }

    /// SHA-256 of a variable's type and options: a `converge` value is made anew when it changes.
    static func digest(type: String, options: YAMLValue) -> String {
        let text = (try? JSONCoding.string(JSONValue.array([.string(type), JSONValue(yaml: options)]))) ?? type
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Full names of stored values this deploy makes anew: asked for (`regenerate-variable`),
    /// `overwrite`, `converge` with other options, `on-stemcell-change` with other stemcells —
    /// and every certificate signed by a CA made anew, so nothing is left signed by a CA that
    /// is gone.
    func toRegenerate(
        stored: [String: StoredVariable], requested: Set<String>, stemcells: String, fullName: (String) -> String
    ) -> Set<String> {
        var chosen = Set<String>()
        for policy in policies {
            let name = fullName(policy.name)
            guard let value = stored[name], !policy.type.isEmpty else { continue }
            if requested.contains(name) || policy.updateMode == "overwrite" {
                chosen.insert(name)
            } else if policy.updateMode == "converge", let digest = value.optionsDigest,
                digest != Self.digest(type: policy.type, options: policy.options)
            {
                chosen.insert(name)
            } else if policy.strategy == "on-stemcell-change", let before = value.stemcells, before != stemcells {
                chosen.insert(name)
            }
        }
        var grew = true
        while grew {
            grew = false
            for policy in policies where policy.type == "certificate" {
                let name = fullName(policy.name)
                guard stored[name] != nil, !chosen.contains(name), let ca = policy.ca, chosen.contains(fullName(ca)) else { continue }
                chosen.insert(name)
                grew = true
            }
        }
        return chosen
    }
}
