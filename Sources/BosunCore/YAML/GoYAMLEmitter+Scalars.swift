/// Byte-level character classes of the libyaml emitter (UTF-8 input).
func utf8Width(_ lead: UInt8) -> Int {
    if lead & 0x80 == 0x00 { return 1 }
    if lead & 0xE0 == 0xC0 { return 2 }
    if lead & 0xF0 == 0xE0 { return 3 }
    if lead & 0xF8 == 0xF0 { return 4 }
    return 1
}

private func byte(_ b: [UInt8], _ i: Int) -> UInt8 { i < b.count ? b[i] : 0 }

func isSpace(_ b: [UInt8], _ i: Int) -> Bool { byte(b, i) == UInt8(ascii: " ") }

func isBlank(_ b: [UInt8], _ i: Int) -> Bool {
    let c = byte(b, i)
    return c == UInt8(ascii: " ") || c == UInt8(ascii: "\t")
}

func isBlankOrEnd(_ b: [UInt8], _ i: Int) -> Bool {
    let c = byte(b, i)
    return c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == 0 || isBreak(b, i)
}

func isBreak(_ b: [UInt8], _ i: Int) -> Bool {
    let c = byte(b, i)
    return c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n")
        || (c == 0xC2 && byte(b, i + 1) == 0x85)
        || (c == 0xE2 && byte(b, i + 1) == 0x80 && (byte(b, i + 2) == 0xA8 || byte(b, i + 2) == 0xA9))
}

func isPrintable(_ b: [UInt8], _ i: Int) -> Bool {
    let c = byte(b, i)
    let n = byte(b, i + 1)
    return c == 0x0A || (c >= 0x20 && c <= 0x7E) || (c == 0xC2 && n >= 0xA0) || (c > 0xC2 && c < 0xED)
        || (c == 0xED && n < 0xA0) || c == 0xEE
        || (c == 0xEF && !(n == 0xBB && byte(b, i + 2) == 0xBF) && !(n == 0xBF && (byte(b, i + 2) == 0xBE || byte(b, i + 2) == 0xBF)))
}

/// What the libyaml emitter learns about a scalar before choosing how to write it.
struct ScalarAnalysis {
    var multiline = false
    var flowPlainAllowed = true
    var blockPlainAllowed = true
    var singleQuotedAllowed = true
    var blockAllowed = true

    init(_ value: [UInt8]) {
        if value.isEmpty {
            flowPlainAllowed = false
            blockAllowed = false
            return
        }
        var blockIndicators = false
        var flowIndicators = false
        var lineBreaks = false
        var specialCharacters = false
        var leadingSpace = false
        var leadingBreak = false
        var trailingSpace = false
        var trailingBreak = false
        var breakSpace = false
        var spaceBreak = false
        var previousSpace = false
        var previousBreak = false

        if value.count >= 3,
            (value[0] == UInt8(ascii: "-") && value[1] == UInt8(ascii: "-") && value[2] == UInt8(ascii: "-"))
                || (value[0] == UInt8(ascii: ".") && value[1] == UInt8(ascii: ".") && value[2] == UInt8(ascii: "."))
        {
            blockIndicators = true
            flowIndicators = true
        }
        var precededByWhitespace = true
        var i = 0
        while i < value.count {
            let w = utf8Width(value[i])
            let followedByWhitespace = i + w >= value.count || isBlank(value, i + w)
            let c = value[i]
            if i == 0 {
                switch c {
                case UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
                    UInt8(ascii: "}"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
                    UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
                    UInt8(ascii: "`"):
                    flowIndicators = true
                    blockIndicators = true
                case UInt8(ascii: "?"), UInt8(ascii: ":"):
                    flowIndicators = true
                    if followedByWhitespace { blockIndicators = true }
                case UInt8(ascii: "-"):
                    if followedByWhitespace {
                        flowIndicators = true
                        blockIndicators = true
                    }
                default: break
                }
            } else {
                switch c {
                case UInt8(ascii: ","), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
                    UInt8(ascii: "}"):
                    flowIndicators = true
                case UInt8(ascii: ":"):
                    flowIndicators = true
                    if followedByWhitespace { blockIndicators = true }
                case UInt8(ascii: "#"):
                    if precededByWhitespace {
                        flowIndicators = true
                        blockIndicators = true
                    }
                default: break
                }
            }
            if !isPrintable(value, i) { specialCharacters = true }
            if c == UInt8(ascii: " ") {
                if i == 0 { leadingSpace = true }
                if i + w == value.count { trailingSpace = true }
                if previousBreak { breakSpace = true }
                previousSpace = true
                previousBreak = false
            } else if isBreak(value, i) {
                lineBreaks = true
                if i == 0 { leadingBreak = true }
                if i + w == value.count { trailingBreak = true }
                if previousSpace { spaceBreak = true }
                previousSpace = false
                previousBreak = true
            } else {
                previousSpace = false
                previousBreak = false
            }
            precededByWhitespace = isBlankOrEnd(value, i)
            i += w
        }
        multiline = lineBreaks
        if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
            flowPlainAllowed = false
            blockPlainAllowed = false
        }
        if trailingSpace { blockAllowed = false }
        if breakSpace {
            flowPlainAllowed = false
            blockPlainAllowed = false
            singleQuotedAllowed = false
        }
        if spaceBreak || specialCharacters {
            flowPlainAllowed = false
            blockPlainAllowed = false
            singleQuotedAllowed = false
            blockAllowed = false
        }
        if lineBreaks {
            flowPlainAllowed = false
            blockPlainAllowed = false
        }
        if flowIndicators { flowPlainAllowed = false }
        if blockIndicators { blockPlainAllowed = false }
    }
}

extension GoYAMLEmitter {
    mutating func writeDoubleQuoted(_ value: [UInt8], allowBreaks: Bool) {
        var spaces = false
        writeIndicator([UInt8(ascii: "\"")], needWhitespace: true, isWhitespace: false, isIndention: false)
        // libyaml's BOM test looks at the start of the value, not at the current character.
        let startsWithBOM = value.count >= 3 && value[0] == 0xEF && value[1] == 0xBB && value[2] == 0xBF
        var i = 0
        while i < value.count {
            let c = value[i]
            if !isPrintable(value, i) || startsWithBOM || isBreak(value, i) || c == UInt8(ascii: "\"")
                || c == UInt8(ascii: "\\")
            {
                let w = utf8Width(c)
                var scalar: UInt32
                switch w {
                case 1: scalar = UInt32(c & 0x7F)
                case 2: scalar = UInt32(c & 0x1F)
                case 3: scalar = UInt32(c & 0x0F)
                default: scalar = UInt32(c & 0x07)
                }
                for k in 1..<max(w, 1) where i + k < value.count {
                    scalar = (scalar << 6) + UInt32(value[i + k] & 0x3F)
                }
                i += w
                put(UInt8(ascii: "\\"))
                writeEscape(scalar)
                spaces = false
            } else if c == UInt8(ascii: " ") {
                if allowBreaks && !spaces && column > bestWidth && i > 0 && i < value.count - 1 {
                    writeIndent()
                    if isSpace(value, i + 1) { put(UInt8(ascii: "\\")) }
                    i += 1
                } else {
                    write(value, &i)
                }
                spaces = true
            } else {
                write(value, &i)
                spaces = false
            }
        }
        writeIndicator([UInt8(ascii: "\"")], needWhitespace: false, isWhitespace: false, isIndention: false)
        // The indicator helper already cleared the flags the way libyaml does here.
    }

    private mutating func writeEscape(_ scalar: UInt32) {
        let simple: [UInt32: Character] = [
            0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r", 0x1B: "e",
            0x22: "\"", 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P",
        ]
        if let letter = simple[scalar] {
            put(letter.asciiValue!)
            return
        }
        let (marker, digits): (Character, Int) =
            scalar <= 0xFF ? ("x", 2) : scalar <= 0xFFFF ? ("u", 4) : ("U", 8)
        put(marker.asciiValue!)
        for k in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            let digit = UInt8((scalar >> UInt32(k)) & 0x0F)
            put(digit < 10 ? digit + UInt8(ascii: "0") : digit + UInt8(ascii: "A") - 10)
        }
    }
}
