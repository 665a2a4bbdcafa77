import Yams

/// A YAML text that could not be read, with where it went wrong.
public struct YAMLSyntaxError: Error, CustomStringConvertible, Sendable {
    /// What was being read (a file path or a description such as "manifest").
    public var source: String
    public var message: String

    public var description: String { "\(source): \(message)" }
}

extension YAMLValue {
    /// Parses one YAML document the way go-yaml v2 unmarshals into `interface{}`.
    ///
    /// An empty document is `null`, as in go-yaml.
    public static func parse(_ text: String, source: String = "YAML") throws(YAMLSyntaxError) -> YAMLValue {
        let node: Node?
        do {
            node = try firstDocument(text, Resolver.basic)
        } catch YamlError.duplicatedKeysInMapping {
            // Without rules Yams sees `1` and `"1"` as the same key. Rare enough to retry with the
            // slower resolver that tells them apart; real duplicates fail again, as they should.
            do {
                node = try firstDocument(text, plainScalarMarker)
            } catch {
                throw YAMLSyntaxError(source: source, message: Self.describe(error))
            }
        } catch {
            throw YAMLSyntaxError(source: source, message: Self.describe(error))
        }
        guard let node else { return .null }
        return try convert(node, source: source)
    }

    /// Yams checks mapping keys for duplicates by resolved tag; marking every plain scalar with one
    /// tag keeps `1` and `"1"` apart (go-yaml treats them as different keys) while the decoder below
    /// still sees which scalars were plain and applies go-yaml's own resolution to them. Its regular
    /// expression costs a few microseconds per key, so it is only used when the fast path trips.
    private static let plainScalarMarker: Resolver = {
        // The pattern is a constant known to compile.
        try! Resolver.basic.appending(.init(Tag.Name(rawValue: plainTag), "^"))
    }()

    private static let plainTag = "tag:bosun,2026:plain"

    /// go-yaml reads the first document of a stream and ignores the rest; so does Bosun.
    private static func firstDocument(_ text: String, _ resolver: Resolver) throws -> Node? {
        try Parser(yaml: text, resolver: resolver).nextRoot()
    }

    private static func describe(_ error: any Error) -> String {
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
                let where_ = "line \(mark.line), column \(mark.column)"
                if let context { return "\(problem) \(context.text) at \(where_)" }
                return "\(problem) at \(where_)"
            case .duplicatedKeysInMapping(let duplicates, let context):
                // Never echo the document: it may hold credentials.
                let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
                return "duplicate map key \(keys) at line \(context.mark.line), column \(context.mark.column)"
            default:
                return "\(yamlError)"
            }
        }
        return "\(error)"
    }

    private static func convert(_ node: Node, source: String) throws(YAMLSyntaxError) -> YAMLValue {
        switch node {
        case .scalar(let scalar):
            return try convertScalar(scalar, source: source)
        case .sequence(let sequence):
            var items: [YAMLValue] = []
            items.reserveCapacity(sequence.count)
            for child in sequence { items.append(try convert(child, source: source)) }
            return .array(items)
        case .mapping(let mapping):
            var map = YAMLMap()
            for (keyNode, valueNode) in mapping {
                if isMergeKey(keyNode) {
                    try merge(valueNode, into: &map, source: source)
                    continue
                }
                let key = try convert(keyNode, source: source)
                if case .array = key {
                    throw YAMLSyntaxError(source: source, message: "invalid map key: \(key.goDisplayString)")
                }
                if case .map = key {
                    throw YAMLSyntaxError(source: source, message: "invalid map key: \(key.goDisplayString)")
                }
                map[key] = try convert(valueNode, source: source)
            }
            return .map(map)
        case .alias:
            throw YAMLSyntaxError(source: source, message: "unresolved alias")
        }
    }

    private static func isMergeKey(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.string == "<<" else { return false }
        let tag = scalar.tag.description
        return tag.isEmpty || tag == plainTag || tag == "tag:yaml.org,2002:merge"
    }

    /// `<<: *anchor` or `<<: [*a, *b]`: copies the anchored maps' keys in, later keys winning, as
    /// go-yaml v2 does.
    private static func merge(_ node: Node, into map: inout YAMLMap, source: String) throws(YAMLSyntaxError) {
        let value = try convert(node, source: source)
        switch value {
        case .map(let other):
            for (k, v) in other { map[k] = v }
        case .array(let items):
            for item in items.reversed() {
                guard case .map(let other) = item else {
                    throw YAMLSyntaxError(source: source, message: "map merge requires map or sequence of maps as the value")
                }
                for (k, v) in other { map[k] = v }
            }
        default:
            throw YAMLSyntaxError(source: source, message: "map merge requires map or sequence of maps as the value")
        }
    }

    private static func convertScalar(_ scalar: Node.Scalar, source: String) throws(YAMLSyntaxError) -> YAMLValue {
        let tag = scalar.tag.description
        switch tag {
        case "", plainTag:
            switch GoYAMLResolver.resolve(scalar.string) {
            case .value(let value): return value
            case .timestamp: return .string(scalar.string)
            }
        case "tag:yaml.org,2002:str", "!":
            return .string(scalar.string)
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null":
            guard case .value(let value) = GoYAMLResolver.resolve(scalar.string) else {
                throw YAMLSyntaxError(source: source, message: "cannot decode `\(scalar.string)` as \(tag)")
            }
            switch (tag, value) {
            case ("tag:yaml.org,2002:int", .int), ("tag:yaml.org,2002:float", .float),
                ("tag:yaml.org,2002:bool", .bool), ("tag:yaml.org,2002:null", .null):
                return value
            case ("tag:yaml.org,2002:float", .int(let i)):
                return .float(Double(i))
            default:
                throw YAMLSyntaxError(source: source, message: "cannot decode `\(scalar.string)` as \(tag)")
            }
        default:
            // Unknown tags keep the text, as go-yaml does for tags it cannot resolve.
            return .string(scalar.string)
        }
    }
}
