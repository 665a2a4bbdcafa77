/// The properties one job sees when its templates render: exactly the properties its spec
/// declares, each taken from the manifest when given there (by its dotted name) and from the
/// spec's `default` otherwise, nested back into maps (`a.b.c` → `{a: {b: {c: …}}}`). Properties
/// the manifest gives but the spec does not declare are left out, as BOSH does.
public enum JobProperties {
    /// `declared` maps each dotted property name to its spec entry (`{default, description, …}`).
    public static func resolve(declared: [String: JSONValue], provided: JSONValue) -> JSONValue {
        var result: JSONValue = [:]
        for name in declared.keys.sorted() {
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if let value = lookup(path, in: provided) {
                insert(value, at: path[...], into: &result)
            } else if let definition = declared[name], let fallback = definition["default"] {
                insert(fallback, at: path[...], into: &result)
            } else {
                insert(.null, at: path[...], into: &result)
            }
        }
        return result
    }

    /// The value at a dotted path, or nil when any step is missing (an explicit `null` counts as missing).
    public static func lookup(_ path: [String], in value: JSONValue) -> JSONValue? {
        var current = value
        for key in path {
            guard case .object(let object) = current, let next = object[key], next != .null else { return nil }
            current = next
        }
        return current
    }

    private static func insert(_ value: JSONValue, at path: ArraySlice<String>, into target: inout JSONValue) {
        guard let key = path.first else {
            target = value
            return
        }
        guard case .object(var object) = target else {
            // A shorter declared name already holds a scalar here; the longer one wins inside a fresh map.
            var fresh: JSONValue = [:]
            insert(value, at: path, into: &fresh)
            target = fresh
            return
        }
        var child = object[key] ?? [:]
        if path.count > 1, case .object = child {} else if path.count > 1 { child = [:] }
        insert(value, at: path.dropFirst(), into: &child)
        object[key] = child
        target = .object(object)
    }
}
