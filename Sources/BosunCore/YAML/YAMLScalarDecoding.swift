/// What one scalar means once read, with go-yaml v2's rules: plain scalars are resolved
/// (`GoYAMLResolver`), quoted and block scalars are strings, and the standard tags are checked.
enum YAMLScalarDecoding {
    static let strTag = "tag:yaml.org,2002:str"
    static let mergeTag = "tag:yaml.org,2002:merge"

    /// Nil `tag` means none was written.
    static func decode(_ text: String, tag: String?, isPlain: Bool) -> Result<YAMLValue, DecodingProblem> {
        guard let tag else {
            guard isPlain else { return .success(.string(text)) }
            switch GoYAMLResolver.resolve(text) {
            case .value(let value): return .success(value)
            case .timestamp: return .success(.string(text))
            }
        }
        switch tag {
        case strTag, "!":
            return .success(.string(text))
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null":
            guard case .value(let value) = GoYAMLResolver.resolve(text) else {
                return .failure(.init(text: text, tag: tag))
            }
            switch (tag, value) {
            case ("tag:yaml.org,2002:int", .int), ("tag:yaml.org,2002:int", .uint),
                ("tag:yaml.org,2002:float", .float), ("tag:yaml.org,2002:bool", .bool),
                ("tag:yaml.org,2002:null", .null):
                return .success(value)
            case ("tag:yaml.org,2002:float", .int(let i)):
                return .success(.float(Double(i)))
            case ("tag:yaml.org,2002:float", .uint(let u)):
                return .success(.float(Double(u)))
            default:
                return .failure(.init(text: text, tag: tag))
            }
        default:
            // Unknown tags keep the text, as go-yaml does for tags it cannot resolve.
            return .success(.string(text))
        }
    }

    /// `<<` written plain (or tagged `!!merge`) as a mapping key merges maps in.
    static func isMergeKey(_ text: String, tag: String?, isPlain: Bool) -> Bool {
        guard text == "<<" else { return false }
        return tag == nil ? isPlain : tag == mergeTag
    }

    /// A scalar whose text does not fit its tag, described by tags only (the text may be a secret).
    struct DecodingProblem: Error {
        /// The tag the text resolves to by itself, short form (`!!str`).
        var resolvedTag: String
        /// The tag written, short form (`!!int`).
        var tag: String

        init(text: String, tag: String) {
            self.tag = Self.short(tag)
            switch GoYAMLResolver.resolve(text) {
            case .timestamp: resolvedTag = "!!timestamp"
            case .value(.null): resolvedTag = "!!null"
            case .value(.bool): resolvedTag = "!!bool"
            case .value(.int), .value(.uint): resolvedTag = "!!int"
            case .value(.float): resolvedTag = "!!float"
            case .value: resolvedTag = "!!str"
            }
        }

        private static func short(_ tag: String) -> String {
            let prefix = "tag:yaml.org,2002:"
            return tag.hasPrefix(prefix) ? "!!" + tag.dropFirst(prefix.count) : tag
        }
    }
}
