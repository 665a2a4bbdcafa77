/// The diff a deploy shows (`redact=true`, the CLI's default): every value under a `properties`
/// or `env` map replaced by `<redacted>`, keys kept, so a diff says what changed without showing
/// a credential the CLI interpolated.
public enum ManifestRedaction {
    public static let placeholder = YAMLValue.string("<redacted>")

    public static func redact(_ document: YAMLValue) -> YAMLValue {
        switch document {
        case .map(let map):
            var redacted = YAMLMap()
            for (key, value) in map {
                if let name = key.stringValue, ["properties", "env"].contains(name) {
                    redacted[key] = leaves(value)
                } else {
                    redacted[key] = redact(value)
                }
            }
            return .map(redacted)
        case .array(let items): return .array(items.map(redact))
        default: return document
        }
    }

    /// Every scalar of `value` replaced, its maps and lists kept.
    static func leaves(_ value: YAMLValue) -> YAMLValue {
        switch value {
        case .map(let map):
            var replaced = YAMLMap()
            for (key, child) in map { replaced[key] = leaves(child) }
            return .map(replaced)
        case .array(let items): return .array(items.map(leaves))
        case .null: return .null
        default: return placeholder
        }
    }
}
