/// How large and how deep a YAML document Bosun agrees to read. Manifests, ops files, vars files
/// and cloud configs come from operators and over the API, so a hostile or broken document must be
/// refused quickly instead of exhausting memory or the stack.
///
/// Aliases are bounded by go-yaml v2.4's own rule (see `AliasBudget`), so a document go-yaml reads
/// Bosun reads too, and one it refuses as "excessive aliasing" Bosun refuses the same way.
public struct YAMLLimits: Sendable, Equatable {
    /// Documents longer than this many bytes are refused before parsing.
    public var maxDocumentBytes: Int
    /// Collections nested deeper than this are refused (go-yaml allows 10,000; Bosun's printer,
    /// comparisons and interpolation recurse over the value, so Bosun stops well before a stack
    /// could overflow; real manifests nest a few dozen levels at most).
    public var maxDepth: Int

    public init(maxDocumentBytes: Int = 64 << 20, maxDepth: Int = 1000) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDepth = maxDepth
    }

    /// The limits every entry point uses unless told otherwise.
    public static let standard = YAMLLimits()
}

/// go-yaml v2.4's defence against alias bombs, as a running count: every node it decodes counts
/// once, nodes decoded while expanding an alias count as aliased too, and once more than 100
/// aliased out of more than 1,000 decoded nodes, the aliased share may not exceed 99% (up to
/// 400,000 decoded nodes), falling linearly to 10% (at 4,000,000 and above).
///
/// Bosun never copies an alias's nodes (the anchored value is shared), so an expansion is counted
/// in one step from the anchored node's size. That is exact: during one expansion both counts grow
/// together, so the aliased share only rises while the allowed share only falls, and if the rule
/// breaks anywhere inside the expansion it is broken at its end.
struct AliasBudget {
    private(set) var decoded = 0
    private(set) var aliased = 0

    /// One node decoded outside any alias expansion.
    mutating func countNode() -> Bool {
        decoded &+= 1
        return isWithinBudget
    }

    /// The expansion of an alias to a node of `size` decoded nodes (the alias node itself is
    /// counted with `countNode`).
    mutating func countExpansion(of size: Int) -> Bool {
        decoded = Self.saturatingAdd(decoded, size)
        aliased = Self.saturatingAdd(aliased, size)
        return isWithinBudget
    }

    var isWithinBudget: Bool {
        guard aliased > 100, decoded > 1000 else { return true }
        return Double(aliased) / Double(decoded) <= Self.allowedRatio(decoded)
    }

    /// The share of decoded nodes that may come from aliases in a document of `decoded` nodes.
    static func allowedRatio(_ decoded: Int) -> Double {
        let low = 400_000.0
        let high = 4_000_000.0
        let count = Double(decoded)
        if count <= low { return 0.99 }
        if count >= high { return 0.10 }
        return 0.99 - 0.89 * (count - low) / (high - low)
    }

    /// Sizes of nested expansions multiply; they are capped rather than allowed to overflow.
    static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max / 2 : min(sum, Int.max / 2)
    }
}
