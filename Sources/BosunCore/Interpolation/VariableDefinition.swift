/// An entry of a manifest's `variables:` section (`name`, `type`, `options`).
public struct VariableDefinition: Sendable, Equatable {
    public var name: String
    /// `password`, `certificate`, `rsa`, `ssh`, or empty for a value that is only looked up.
    public var type: String
    public var options: YAMLValue

    public init(name: String, type: String = "", options: YAMLValue = .null) {
        self.name = name
        self.type = type
        self.options = options
    }
}

/// Where `((variable))` values come from: `-v`, `-l`, `--vars-env`, `--vars-store`, or the
/// director's config server.
public protocol VariableSource {
    /// The value for a definition, or nil when this source has none (and cannot make one).
    func value(for definition: VariableDefinition) throws -> YAMLValue?
    /// Every name this source holds, for `--var-errs-unused`.
    func names() -> [String]
}

/// Variables given on the command line or in vars files.
public struct StaticVariables: VariableSource, Sendable {
    public var values: [String: YAMLValue]

    public init(_ values: [String: YAMLValue] = [:]) { self.values = values }

    /// A vars file (`-l`, `--vars-store`): a YAML map of names to values; empty is fine.
    public init(parsingVarsFile text: String, source: String) throws(YAMLSyntaxError) {
        try self.init(varsFile: try YAMLValue.parse(text, source: source), source: source)
    }

    /// A vars file from its bytes, refusing invalid UTF-8 with its position (see `YAMLValue.parse(bytes:)`).
    public init(parsingVarsFile bytes: some Collection<UInt8>, source: String) throws(YAMLSyntaxError) {
        try self.init(varsFile: try YAMLValue.parse(bytes: bytes, source: source), source: source)
    }

    private init(varsFile document: YAMLValue, source: String) throws(YAMLSyntaxError) {
        switch document {
        case .null:
            values = [:]
        case .map(let map):
            var values: [String: YAMLValue] = [:]
            for (key, value) in map { values[key.goDisplayString] = value }
            self.values = values
        default:
            throw YAMLSyntaxError(source: source, message: "expected a map of variable names to values")
        }
    }

    public func value(for definition: VariableDefinition) throws -> YAMLValue? { values[definition.name] }

    public func names() -> [String] { Array(values.keys) }
}

/// Sources asked in order; the first that has a value wins (static values before the store, as in BOSH).
public struct LayeredVariables: VariableSource {
    public var sources: [any VariableSource]

    public init(_ sources: [any VariableSource]) { self.sources = sources }

    public func value(for definition: VariableDefinition) throws -> YAMLValue? {
        for source in sources {
            if let value = try source.value(for: definition) { return value }
        }
        return nil
    }

    public func names() -> [String] {
        var seen = Set<String>()
        return sources.flatMap { $0.names() }.filter { seen.insert($0).inserted }
    }
}
