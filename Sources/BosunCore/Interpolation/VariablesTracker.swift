/// Resolves variable names against the sources and the manifest's `variables:` definitions, and
/// remembers what was missing and what was used — BOSH's `varsTracker`.
///
/// A definition's `options` may themselves reference variables (a certificate's `ca`, a
/// `common_name` from a var); those are resolved first, and a cycle is an error.
final class VariablesTracker {
    let sources: any VariableSource
    let definitions: [VariableDefinition]
    private let definitionsByName: [String: VariableDefinition]
    private(set) var missing: Set<String> = []
    private(set) var used: Set<String> = []
    /// Names already resolved (a manifest references the same variable many times).
    private var resolved: [String: YAMLValue?] = [:]

    init(sources: any VariableSource, definitions: [VariableDefinition]) {
        self.sources = sources
        self.definitions = definitions
        self.definitionsByName = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The value of a top-level variable name, or nil when no source has it.
    func value(named name: String, visiting: Set<String> = []) throws(InterpolationError) -> YAMLValue? {
        used.insert(name)
        guard !visiting.contains(name) else {
            throw InterpolationError("Detected recursion in variable '\(name)'")
        }
        if let known = resolved[name] { return known }
        let value = try resolve(name, visiting: visiting)
        resolved[name] = .some(value)
        return value
    }

    private func resolve(_ name: String, visiting: Set<String>) throws(InterpolationError) -> YAMLValue? {
        var definition = definitionsByName[name] ?? VariableDefinition(name: name)
        // Options are resolved in a scope of their own, as BOSH does: names only they reference are
        // neither reported missing nor counted as used.
        let scope = VariablesTracker(sources: sources, definitions: definitions)
        do {
            try Interpolator(tracker: scope, visiting: visiting.union([name])).interpolate(&definition.options)
        } catch {
            throw InterpolationError("Interpolating variable '\(name)' definition options: \(error.description)")
        }
        if !scope.missing.isEmpty { return nil }
        let value: YAMLValue?
        do {
            value = try sources.value(for: definition)
        } catch let error as InterpolationError {
            throw error
        } catch {
            throw InterpolationError("Generating variable '\(name)': \(error)")
        }
        if value == nil { missing.insert(name) }
        return value
    }

    /// `name` or `name.key.sub` (a field of a certificate, say).
    func lookup(_ reference: String, visiting: Set<String>) throws(InterpolationError) -> YAMLValue? {
        let parts = reference.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let value = try value(named: parts[0], visiting: visiting) else { return nil }
        guard parts.count > 1 else { return value }
        let path = "/" + parts.dropFirst().joined(separator: "/")
        let pointer: PatchPointer
        do {
            pointer = try PatchPointer(parsing: path)
        } catch {
            throw InterpolationError(error.description)
        }
        do {
            return try PatchFind(pointer: pointer).find(in: value)
        } catch {
            // `((creds.0))` may mean a map key "0": retry with every token as a key.
            let keysOnly = PatchPointer(tokens: [.root] + parts.dropFirst().map { .key($0, optional: false) })
            do {
                return try PatchFind(pointer: keysOnly).find(in: value)
            } catch {
                throw InterpolationError(error.description)
            }
        }
    }
}

/// Replaces `((references))` throughout a document.
struct Interpolator {
    let tracker: VariablesTracker
    var visiting: Set<String> = []

    /// Interpolates in place; maps and lists without references are left untouched.
    func interpolate(_ node: inout YAMLValue) throws(InterpolationError) {
        switch node {
        case .map(var map):
            node = .null  // keep the map uniquely referenced while editing it
            defer { node = .map(map) }
            var renamed: [(old: YAMLValue, new: YAMLValue)] = []
            for index in map.values.indices {
                try interpolate(&map.values[index])
            }
            for key in map.keys {
                guard case .string(let text) = key, VariableReference.mightContainReference(text) else { continue }
                var newKey = key
                try interpolate(&newKey)
                if newKey != key { renamed.append((key, newKey)) }
            }
            for (old, new) in renamed {
                let value = map.removeValue(forKey: old)
                map[new] = value
            }
        case .array(var items):
            node = .null
            defer { node = .array(items) }
            for index in items.indices { try interpolate(&items[index]) }
        case .string(let text):
            guard VariableReference.mightContainReference(text) else { return }
            node = try interpolate(string: text)
        default:
            return
        }
    }

    private func interpolate(string original: String) throws(InterpolationError) -> YAMLValue {
        var text = original
        for reference in VariableReference.matches(in: original) {
            let found: YAMLValue?
            do {
                found = try tracker.lookup(reference.name, visiting: visiting)
            } catch {
                throw InterpolationError("Finding variable '\(reference.name)': \(error.description)")
            }
            guard let found else { continue }
            if VariableReference.isWholeReference(text) { return found }
            let replacement: String
            switch found {
            case .string(let s): replacement = s
            case .int(let i): replacement = String(i)
            default:
                throw InterpolationError(
                    "Invalid type '\(found.goTypeName)' for variable '\(reference.name)'. Supported types for interpolation within a string are integers and strings."
                )
            }
            text = text.replacingOccurrences(of: "((\(reference.name)))", with: replacement)
            text = text.replacingOccurrences(of: "((!\(reference.name)))", with: replacement)
        }
        return .string(text)
    }
}

extension String {
    /// Literal substring replacement without Foundation.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
