/// Number syntax as Go's `strconv` accepts it, which is what go-yaml uses to decide whether a plain
/// scalar is a number.
enum GoNumberParsing {
    /// `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b`, a leading `0` (octal) or
    /// decimal digits. Returns nil when the text is not such a number or does not fit.
    static func parseInt(_ text: String) -> Int? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        guard let magnitude = parseMagnitude(bytes) else { return nil }
        if negative {
            if magnitude == UInt64(Int.max) + 1 { return Int.min }
            guard magnitude <= UInt64(Int.max) else { return nil }
            return -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }

    /// `strconv.ParseUint(s, 0, 64)`: like `parseInt` without a sign.
    static func parseUnsigned(_ text: String) -> UInt64? {
        parseMagnitude(Substring(text).utf8[...])
    }

    private static func parseMagnitude(_ bytes: Substring.UTF8View.SubSequence) -> UInt64? {
        var digits = bytes
        var radix: UInt64 = 10
        if digits.count >= 2, digits.first == UInt8(ascii: "0") {
            let marker = digits[digits.index(after: digits.startIndex)] | 0x20
            switch marker {
            case UInt8(ascii: "x"): radix = 16; digits = digits.dropFirst(2)
            case UInt8(ascii: "o"): radix = 8; digits = digits.dropFirst(2)
            case UInt8(ascii: "b"): radix = 2; digits = digits.dropFirst(2)
            default: radix = 8; digits = digits.dropFirst(1)
            }
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = shifted.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    /// `strconv.ParseFloat(s, 64)` for the decimal forms go-yaml lets through; out-of-range values
    /// are failures, as in Go.
    static func parseFloat(_ text: String) -> Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
    static func isYAMLStyleFloat(_ text: String) -> Bool {
        let b = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i].isASCIIDigit { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                _ = digits()
            }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == b.count
    }
}

/// The timestamp shapes go-yaml v2 recognises (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`,
/// the same with `t`, and `2006-1-2 15:4:5.999999999`), with Go's range checks.
enum GoTimestamp {
    static func looksLikeTimestamp(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 5, b[0..<4].allSatisfy(\.isASCIIDigit), b[4] == UInt8(ascii: "-") else { return false }
        var i = 5
        func number(maxDigits: Int) -> Int? {
            let start = i
            var value = 0
            while i < b.count, i - start < maxDigits, b[i].isASCIIDigit {
                value = value * 10 + Int(b[i] - UInt8(ascii: "0"))
                i += 1
            }
            return i == start ? nil : value
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        let year = Int(String(decoding: b[0..<4], as: UTF8.self))!
        guard let month = number(maxDigits: 2), (1...12).contains(month), expect("-"),
            let day = number(maxDigits: 2), day >= 1, day <= daysIn(month: month, year: year)
        else { return false }
        if i == b.count { return true }
        let separator = b[i]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ")
        else { return false }
        i += 1
        guard let hour = number(maxDigits: 2), hour < 24, expect(":"), let minute = number(maxDigits: 2), minute < 60,
            expect(":"), let second = number(maxDigits: 2), second < 60
        else { return false }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard number(maxDigits: 9) != nil else { return false }
        }
        if separator == UInt8(ascii: " ") { return i == b.count }
        if expect("Z") { return i == b.count }
        guard i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return false }
        i += 1
        let start = i
        guard number(maxDigits: 2) != nil, i - start == 2, expect(":") else { return false }
        let minuteStart = i
        guard number(maxDigits: 2) != nil, i - minuteStart == 2 else { return false }
        return i == b.count
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
