/// A position in a YAML document being read into a model: its value (if present), its YAML path,
/// and the shared problem log. Accessors report type problems and return nil instead of throwing, so
/// reading continues and every problem is found in one pass.
struct ManifestNode {
    let value: YAMLValue?
    let path: String
    let log: ProblemLog

    init(root: YAMLValue, log: ProblemLog) {
        self.value = root
        self.path = ""
        self.log = log
    }

    private init(value: YAMLValue?, path: String, log: ProblemLog) {
        self.value = value
        self.path = path
        self.log = log
    }

    /// True when the key is absent or explicitly null.
    var isMissing: Bool { value == nil || value == .null }

    func problem(_ message: String) { log.add(path, message) }

    subscript(key: String) -> ManifestNode {
        ManifestNode(value: value?[key], path: path.isEmpty ? key : "\(path).\(key)", log: log)
    }

    /// A brief, non-secret rendering of a scalar for messages.
    static func describe(_ value: YAMLValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .float(let d): return GoFloatFormat.format(d)
        case .string(let s): return "\"\(s.count > 60 ? String(s.prefix(60)) + "…" : s)\""
        case .array: return "a list"
        case .map: return "a map"
        }
    }

    // MARK: Scalars

    func string(required: Bool = false) -> String? {
        guard let value, value != .null else {
            if required { problem("is required") }
            return nil
        }
        switch value {
        case .string(let s):
            if s.isEmpty && required { problem("must not be empty") }
            return s
        case .int, .uint, .float, .bool:
            // go-yaml would have read `version: 1.2` as a number; BOSH accepts it as text.
            return value.goDisplayString
        default:
            problem("expected a string, got \(Self.describe(value))")
            return nil
        }
    }

    func int(required: Bool = false, minimum: Int? = nil) -> Int? {
        guard let value, value != .null else {
            if required { problem("is required") }
            return nil
        }
        guard case .int(let i) = value else {
            problem("expected an integer, got \(Self.describe(value))")
            return nil
        }
        if let minimum, i < minimum {
            problem("must be at least \(minimum), got \(i)")
            return nil
        }
        return i
    }

    func bool(required: Bool = false) -> Bool? {
        guard let value, value != .null else {
            if required { problem("is required") }
            return nil
        }
        guard case .bool(let b) = value else {
            problem("expected true or false, got \(Self.describe(value))")
            return nil
        }
        return b
    }

    /// A string that must be one of a fixed set.
    func choice<T: RawRepresentable>(_ type: T.Type, required: Bool = false) -> T? where T.RawValue == String {
        guard let text = string(required: required) else { return nil }
        guard let parsed = T(rawValue: text) else {
            problem("expected one of \(Self.allowed(T.self)), got \"\(text)\"")
            return nil
        }
        return parsed
    }

    private static func allowed<T: RawRepresentable>(_: T.Type) -> String where T.RawValue == String {
        guard let all = T.self as? any CaseIterable.Type else { return "the allowed values" }
        return all.allCases.map { "\"\(($0 as! T).rawValue)\"" }.joined(separator: ", ")
    }

    // MARK: Collections

    /// The items of a list, each with its path (`jobs[2] (name)` when the item has a name).
    func list(required: Bool = false) -> [ManifestNode] {
        guard let value, value != .null else {
            if required { problem("is required") }
            return []
        }
        guard case .array(let items) = value else {
            problem("expected a list, got \(Self.describe(value))")
            return []
        }
        return items.enumerated().map { index, item in
            var itemPath = "\(path)[\(index)]"
            if case .string(let name)? = item["name"] { itemPath += " (\(name))" }
            return ManifestNode(value: item, path: itemPath, log: log)
        }
    }

    /// A list of strings.
    func strings(required: Bool = false) -> [String] {
        list(required: required).compactMap { $0.string(required: true) }
    }

    /// The node as a map, reporting a problem if it is something else.
    @discardableResult
    func map(required: Bool = false) -> YAMLMap? {
        guard let value, value != .null else {
            if required { problem("is required") }
            return nil
        }
        guard case .map(let map) = value else {
            problem("expected a map, got \(Self.describe(value))")
            return nil
        }
        return map
    }

    /// Free-form data (properties, cloud_properties, env): any map, kept as is.
    func freeform() -> YAMLValue {
        guard map() != nil, let value else { return .map([:]) }
        return value
    }

    /// The entries of a map, each with its path.
    func entries() -> [(key: String, node: ManifestNode)] {
        guard let map = map() else { return [] }
        return map.map { key, value in
            let name = key.goDisplayString
            return (name, ManifestNode(value: value, path: path.isEmpty ? name : "\(path).\(name)", log: log))
        }
    }
}

/// Reports names that occur more than once in a list (`instance_groups[3] (web).name: duplicate…`).
func reportDuplicateNames(_ items: [(name: String, node: ManifestNode)], what: String) {
    var seen: [String: String] = [:]
    for (name, node) in items where !name.isEmpty {
        if let first = seen[name] {
            node["name"].problem("duplicate \(what) name \"\(name)\" (also at \(first))")
        } else {
            seen[name] = node.path
        }
    }
}
