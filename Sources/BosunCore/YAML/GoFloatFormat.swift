/// Formats a `Double` the way Go's `strconv.FormatFloat(f, 'g', -1, 64)` does, which is how
/// go-yaml prints floats: the shortest digits that round-trip, in exponent form when the decimal
/// exponent is below -4 or at least 6 (Go's `%g` with shortest precision decides with 6).
enum GoFloatFormat {
    static func format(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (negative, digits, pointPosition) = shortestDigits(value)
        let exponent = pointPosition - 1
        var out = negative ? "-" : ""
        if exponent < -4 || exponent >= 6 {
            out.append(digits.first!)
            if digits.count > 1 {
                out.append(".")
                out.append(contentsOf: digits.dropFirst())
            }
            out.append("e")
            out.append(exponent < 0 ? "-" : "+")
            let magnitude = abs(exponent)
            if magnitude < 10 { out.append("0") }
            out.append(String(magnitude))
            return out
        }
        if pointPosition <= 0 {
            out.append("0.")
            out.append(String(repeating: "0", count: -pointPosition))
            out.append(contentsOf: digits)
        } else if pointPosition >= digits.count {
            out.append(contentsOf: digits)
            out.append(String(repeating: "0", count: pointPosition - digits.count))
        } else {
            out.append(contentsOf: digits.prefix(pointPosition))
            out.append(".")
            out.append(contentsOf: digits.dropFirst(pointPosition))
        }
        return out
    }

    /// Splits Swift's shortest round-trip rendering into sign, significant digits and the position
    /// of the decimal point relative to the first digit.
    private static func shortestDigits(_ value: Double) -> (Bool, String, Int) {
        var text = "\(value)"
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        var integerPart = text
        var fraction = ""
        if let dot = text.firstIndex(of: ".") {
            integerPart = String(text[..<dot])
            fraction = String(text[text.index(after: dot)...])
        }
        var digits = integerPart + fraction
        var pointPosition = integerPart.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (negative, digits, pointPosition)
    }
}
