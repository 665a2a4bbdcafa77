/// Decides what an unquoted YAML scalar means, with go-yaml v2's rules (YAML 1.1 flavoured:
/// `yes`/`on`/`y` are booleans, `0777` is octal, `1_000` is an int, timestamps stay strings).
///
/// BOSH reads every manifest, ops file and vars file with these rules, and decides whether to quote
/// a string on output by asking the same question, so both directions go through here.
enum GoYAMLResolver {
    enum Resolved: Equatable {
        case value(YAMLValue)
        /// Looks like a timestamp: decoded as a string, but quoted on output.
        case timestamp
    }

    private static let keywords: [String: Resolved] = {
        var table: [String: Resolved] = [:]
        for word in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] {
            table[word] = .value(.bool(true))
        }
        for word in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] {
            table[word] = .value(.bool(false))
        }
        for word in ["", "~", "null", "Null", "NULL"] { table[word] = .value(.null) }
        for word in [".nan", ".NaN", ".NAN"] { table[word] = .value(.float(.nan)) }
        for word in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] { table[word] = .value(.float(.infinity)) }
        for word in ["-.inf", "-.Inf", "-.INF"] { table[word] = .value(.float(-.infinity)) }
        return table
    }()

    /// Resolves a plain scalar's text.
    static func resolve(_ text: String) -> Resolved {
        let utf8 = text.utf8
        guard let first = utf8.first else { return .value(.null) }
        let hint = hintTable(first)
        if hint == 0 { return .value(.string(text)) }
        if let keyword = keywords[text] { return keyword }
        switch hint {
        case UInt8(ascii: "."):
            if let d = GoNumberParsing.parseFloat(text) { return .value(.float(d)) }
        case UInt8(ascii: "D"), UInt8(ascii: "S"):
            if GoTimestamp.looksLikeTimestamp(text) { return .timestamp }
            let plain = text.replacingUnderscores()
            if let i = GoNumberParsing.parseInt(plain) { return .value(.int(i)) }
            if let u = GoNumberParsing.parseUnsigned(plain) { return .value(.uint(u)) }
            if GoNumberParsing.isYAMLStyleFloat(plain), let d = GoNumberParsing.parseFloat(plain) {
                return .value(.float(d))
            }
        default:
            break
        }
        return .value(.string(text))
    }

    /// Whether go-yaml would print this string without quotes as far as meaning goes (the emitter
    /// may still quote it for syntax reasons).
    static func stringCanBePlain(_ text: String) -> Bool {
        guard case .value(.string) = resolve(text) else { return false }
        return !isBase60Float(text)
    }

    private static func hintTable(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return UInt8(ascii: "S")
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt8(ascii: "D")
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"),
            UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"),
            UInt8(ascii: "~"):
            return UInt8(ascii: "M")
        case UInt8(ascii: "."): return UInt8(ascii: ".")
        default: return 0
        }
    }

    /// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` — sexagesimal numbers that YAML 1.1
    /// parsers read as floats, so go-yaml quotes them on output.
    static func isBase60Float(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard let first = b.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first.isASCIIDigit,
            b.contains(UInt8(ascii: ":"))
        else { return false }
        var i = 0
        if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, b[i].isASCIIDigit else { return false }
        i += 1
        while i < b.count, b[i].isASCIIDigit || b[i] == UInt8(ascii: "_") { i += 1 }
        var groups = 0
        while i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            // [0-5]?[0-9]
            if i + 1 < b.count, (UInt8(ascii: "0")...UInt8(ascii: "5")).contains(b[i]), b[i + 1].isASCIIDigit {
                i += 2
            } else if i < b.count, b[i].isASCIIDigit {
                i += 1
            } else {
                return false
            }
            groups += 1
        }
        guard groups > 0 else { return false }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, b[i].isASCIIDigit || b[i] == UInt8(ascii: "_") { i += 1 }
        }
        return i == b.count
    }
}

extension UInt8 {
    var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}

extension String {
    func replacingUnderscores() -> String {
        utf8.contains(UInt8(ascii: "_")) ? String(filter { $0 != "_" }) : self
    }
}
