/// The tmpfs knobs of an instance group's `env.bosh`, told apart from the rest of the env so a
/// plan says when VMs are recreated because of them (`features.use_tmpfs_config` included).
extension DeploymentPlanner {
    static let tmpfsKnobs: [[String]] = [
        ["bosh", "job_dir", "tmpfs"], ["bosh", "job_dir", "tmpfs_size"], ["bosh", "agent", "settings", "tmpfs"],
    ]

    /// `job_dir.tmpfs false -> true` for each knob that differs.
    static func tmpfsChanges(from old: JSONValue, to new: JSONValue) -> [String] {
        tmpfsKnobs.compactMap { path in
            let before = old.value(at: path), after = new.value(at: path)
            guard before != after else { return nil }
            return "\(path.dropFirst().joined(separator: ".")) \(before?.compactDescription ?? "unset") -> \(after?.compactDescription ?? "unset")"
        }
    }

    /// The env without the tmpfs knobs (and without maps they leave empty).
    static func withoutTmpfsKnobs(_ env: JSONValue) -> JSONValue {
        tmpfsKnobs.reduce(env) { $0.removing($1) }
    }
}

extension JSONValue {
    public func value(at path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in path {
            guard case .object(let object)? = current else { return nil }
            current = object[key]
        }
        return current == .null ? nil : current
    }

    /// This object without the value at `path`; maps emptied on the way are removed too.
    func removing(_ path: [String]) -> JSONValue {
        guard let key = path.first, case .object(var object) = self, let child = object[key] else { return self }
        if path.count == 1 {
            object[key] = nil
        } else {
            let rest = child.removing(Array(path.dropFirst()))
            if case .object(let emptied) = rest, emptied.isEmpty { object[key] = nil } else { object[key] = rest }
        }
        return .object(object)
    }

    /// Scalars as they read in a manifest (`true`, `64m`); anything else as JSON.
    public var compactDescription: String {
        switch self {
        case .string(let text): text
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value): String(value)
        default: (try? JSONCoding.string(self)) ?? "?"
        }
    }
}
