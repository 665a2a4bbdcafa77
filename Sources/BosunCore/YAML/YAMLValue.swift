import Collections

/// A YAML document as BOSH tooling sees it: the data model of go-yaml v2 unmarshalling into
/// `interface{}`, so that what `bosh int` would print can be printed exactly.
///
/// Maps keep insertion order (handy for error messages and for models) but printing sorts keys the
/// way go-yaml does, so order never changes output.
public enum YAMLValue: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer above `Int.max` (up to 2^64-1), which go-yaml v2 decodes as `uint64`. Integers
    /// that fit an `Int` are always `.int`, so each number has one representation.
    case uint(UInt64)
    case float(Double)
    case string(String)
    case array([YAMLValue])
    case map(YAMLMap)

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var mapValue: YAMLMap? {
        if case .map(let m) = self { return m }
        return nil
    }

    public var arrayValue: [YAMLValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Looks a string key up when this value is a map.
    public subscript(key: String) -> YAMLValue? {
        mapValue?[.string(key)]
    }

    /// The name Go's `%T` gives this value after go-yaml decoding; BOSH error messages quote it.
    public var goTypeName: String {
        switch self {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .int: return "int"
        case .uint: return "uint64"
        case .float: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .map: return "map[interface {}]interface {}"
        }
    }

    /// How Go's `%v` prints a scalar; used where BOSH splices a value into a string or message.
    public var goDisplayString: String {
        switch self {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .float(let d): return GoFloatFormat.format(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(\.goDisplayString).joined(separator: " ") + "]"
        case .map(let m):
            return "map[" + m.map { "\($0.key.goDisplayString):\($0.value.goDisplayString)" }.joined(separator: " ")
                + "]"
        }
    }
}

/// An ordered YAML mapping; keys are scalars (strings almost always, but go-yaml allows others).
public typealias YAMLMap = OrderedDictionary<YAMLValue, YAMLValue>

extension YAMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(arrayLiteral elements: YAMLValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (YAMLValue, YAMLValue)...) {
        var map = YAMLMap()
        for (key, value) in elements { map[key] = value }
        self = .map(map)
    }
}

/// Maps compare as Go maps do: the same keys with equal values, whatever their order.
extension YAMLValue: Hashable {
    public static func == (lhs: YAMLValue, rhs: YAMLValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.float(let a), .float(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a where b[key] != value { return false }
            return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(i)
        case .uint(let u): hasher.combine(u)
        case .float(let d): hasher.combine(d)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .map(let m):
            // Order-independent: sum the entries' own hashes.
            var sum = 0
            for (key, value) in m {
                var entry = Hasher()
                entry.combine(key)
                entry.combine(value)
                sum = sum &+ entry.finalize()
            }
            hasher.combine(m.count)
            hasher.combine(sum)
        }
    }
}
