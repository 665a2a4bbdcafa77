/// A go-patch path such as `/instance_groups/name=web/jobs/-` or `/releases/0:after`.
///
/// Syntax (as in go-patch, which `bosh` uses for ops files and `--path`):
/// - `/key` a map key; `/key?` may be missing, and optionality carries to the tokens after it;
/// - `/3`, `/-1` an array index; `/-` the slot after the last item (last token only);
/// - `/name=value` the one array item that is a map whose `name` is `value`; `name=value?` may be missing;
/// - `:prev`/`:next` shift an index, `:before`/`:after` insert next to it;
/// - escapes: `~0` `~`, `~1` `/`, `~2` `?`, `~3` `=`, `~7` `:`.
public struct PatchPointer: Sendable, Hashable, CustomStringConvertible {
    public enum Modifier: String, Sendable, Hashable {
        case prev, next, before, after
    }

    public enum Token: Sendable, Hashable {
        case root
        case index(Int, modifiers: [Modifier])
        case afterLast
        case matching(key: String, value: String, optional: Bool, modifiers: [Modifier])
        case key(String, optional: Bool)
    }

    public private(set) var tokens: [Token]

    public init(tokens: [Token]) {
        precondition(tokens.first == .root, "a pointer starts at the root")
        self.tokens = tokens
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(parsing text: String) throws(ParseError) {
        var tokens: [Token] = [.root]
        if text.isEmpty {
            self.tokens = tokens
            return
        }
        guard text.hasPrefix("/") else { throw ParseError(description: "Expected to start with '/'") }
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var optional = false
        for (offset, rawPiece) in pieces.enumerated() {
            let isLast = offset == pieces.count - 1
            let parts = rawPiece.split(separator: ":", omittingEmptySubsequences: false)
            var piece = String(parts[0])
            var modifiers: [Modifier] = []
            for name in parts.dropFirst() {
                guard let modifier = Modifier(rawValue: String(name)) else {
                    throw ParseError(
                        description:
                            "Expected to find one of the following modifiers: 'prev', 'next', 'before', or 'after' but found '\(name)'"
                    )
                }
                modifiers.append(modifier)
            }
            if isLast && piece == "-" {
                guard modifiers.isEmpty else {
                    throw ParseError(description: "Expected not to find any modifiers with after last index token")
                }
                tokens.append(.afterLast)
                continue
            }
            if let index = Int(piece) {
                tokens.append(.index(index, modifiers: modifiers))
                continue
            }
            if piece.hasSuffix("?") {
                optional = true
                piece.removeLast()
            }
            if let equals = piece.firstIndex(of: "=") {
                let key = Self.unescape(String(piece[..<equals]))
                let value = Self.unescape(String(piece[piece.index(after: equals)...]))
                tokens.append(.matching(key: key, value: value, optional: optional, modifiers: modifiers))
                continue
            }
            guard modifiers.isEmpty else {
                throw ParseError(description: "Expected not to find any modifiers with key token")
            }
            tokens.append(.key(Self.unescape(piece), optional: optional))
        }
        self.tokens = tokens
    }

    /// The pointer made of the first `count` tokens (root included), for error messages.
    public func prefix(_ count: Int) -> PatchPointer {
        PatchPointer(tokens: Array(tokens.prefix(count)))
    }

    public var description: String {
        var parts: [String] = []
        var optionalShown = false
        for token in tokens {
            switch token {
            case .root:
                parts.append("")
            case .index(let index, let modifiers):
                parts.append(String(index) + Self.describe(modifiers))
            case .afterLast:
                parts.append("-")
            case .matching(let key, let value, let optional, let modifiers):
                var text = Self.escape(key) + "=" + Self.escape(value)
                if optional && !optionalShown {
                    text += "?"
                    optionalShown = true
                }
                parts.append(text + Self.describe(modifiers))
            case .key(let key, let optional):
                var text = Self.escape(key)
                if optional && !optionalShown {
                    text += "?"
                    optionalShown = true
                }
                parts.append(text)
            }
        }
        return parts.joined(separator: "/")
    }

    private static func describe(_ modifiers: [Modifier]) -> String {
        modifiers.map { ":" + $0.rawValue }.joined()
    }

    private static let escapes: [(Character, Character)] = [("0", "~"), ("1", "/"), ("2", "?"), ("3", "="), ("7", ":")]

    static func unescape(_ text: String) -> String {
        guard text.contains("~") else { return text }
        var out = ""
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            guard c == "~" else {
                out.append(c)
                continue
            }
            guard let code = iterator.next() else {
                out.append(c)
                break
            }
            if let replacement = escapes.first(where: { $0.0 == code })?.1 {
                out.append(replacement)
            } else {
                out.append(c)
                out.append(code)
            }
        }
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if let code = escapes.first(where: { $0.1 == c })?.0 {
                out.append("~")
                out.append(code)
            } else {
                out.append(c)
            }
        }
        return out
    }
}
