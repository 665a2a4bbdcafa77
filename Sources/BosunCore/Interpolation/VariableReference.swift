/// Finds `((name))` and `((!name))` references in a string, like BOSH's
/// `\(\((!?[-/\.\w\pL]+)\)\)`: a name is ASCII letters, digits, `_`, `-`, `/`, `.` or any Unicode letter.
enum VariableReference {
    struct Match {
        /// The name without a leading `!`.
        var name: String
        var range: Range<String.Index>
    }

    /// A cheap byte scan for `((`, so most strings skip the real search.
    static func mightContainReference(_ text: String) -> Bool {
        var previousWasParen = false
        for byte in text.utf8 {
            let isParen = byte == UInt8(ascii: "(")
            if isParen && previousWasParen { return true }
            previousWasParen = isParen
        }
        return false
    }

    static func matches(in text: String) -> [Match] {
        guard mightContainReference(text) else { return [] }
        var result: [Match] = []
        var searchStart = text.startIndex
        while let open = text[searchStart...].firstRange(of: "((") {
            var cursor = open.upperBound
            var nameStart = cursor
            if cursor < text.endIndex, text[cursor] == "!" {
                cursor = text.index(after: cursor)
                nameStart = cursor
            }
            while cursor < text.endIndex, isNameCharacter(text[cursor]) { cursor = text.index(after: cursor) }
            let closeEnd = text.index(cursor, offsetBy: 2, limitedBy: text.endIndex)
            if cursor > nameStart, let closeEnd, text[cursor..<closeEnd] == "))" {
                result.append(Match(name: String(text[nameStart..<cursor]), range: open.lowerBound..<closeEnd))
                searchStart = closeEnd
            } else {
                searchStart = text.index(after: open.lowerBound)
            }
        }
        return result
    }

    /// True when the whole string is one reference, so the value replaces it with its own type.
    static func isWholeReference(_ text: String) -> Bool {
        let found = matches(in: text)
        return found.count == 1 && found[0].range == text.startIndex..<text.endIndex
    }

    private static func isNameCharacter(_ c: Character) -> Bool {
        if c.isASCII {
            return c.isLetter || c.isNumber || c == "_" || c == "-" || c == "/" || c == "."
        }
        return c.unicodeScalars.count == 1 && c.unicodeScalars.first!.properties.isAlphabetic && c.isLetter
    }
}
