/// Checks on a document's raw bytes that come before parsing: valid UTF-8, and turning a byte
/// offset into the line and column an operator can find in an editor.
enum YAMLByteChecks {
    struct InvalidUTF8: Error {
        /// go-yaml's (and libyaml's) words for the problem.
        var problem: String
        /// Where the bad character starts.
        var offset: Int
    }

    /// The first invalid UTF-8 sequence, judged as go-yaml's reader judges it (RFC 3629: no
    /// overlong forms, no surrogates, nothing above U+10FFFF).
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> InvalidUTF8? {
        var i = 0
        let count = bytes.count
        while i < count {
            // Eight ASCII bytes at a time: most manifests are all ASCII.
            if i + 8 <= count {
                let word = UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let width: Int
            var value: UInt32
            switch lead {
            case _ where lead & 0xE0 == 0xC0: (width, value) = (2, UInt32(lead & 0x1F))
            case _ where lead & 0xF0 == 0xE0: (width, value) = (3, UInt32(lead & 0x0F))
            case _ where lead & 0xF8 == 0xF0: (width, value) = (4, UInt32(lead & 0x07))
            default: return InvalidUTF8(problem: "invalid leading UTF-8 octet", offset: i)
            }
            guard i + width <= count else { return InvalidUTF8(problem: "incomplete UTF-8 octet sequence", offset: i) }
            for k in 1..<width {
                let trailing = bytes[i + k]
                guard trailing & 0xC0 == 0x80 else {
                    return InvalidUTF8(problem: "invalid trailing UTF-8 octet", offset: i)
                }
                value = value << 6 | UInt32(trailing & 0x3F)
            }
            let shortest: UInt32 = width == 2 ? 0x80 : width == 3 ? 0x800 : 0x10000
            guard value >= shortest else {
                return InvalidUTF8(problem: "invalid length of a UTF-8 sequence", offset: i)
            }
            guard !(0xD800...0xDFFF).contains(value), value <= 0x10FFFF else {
                return InvalidUTF8(problem: "invalid Unicode character", offset: i)
            }
            i += width
        }
        return nil
    }

    /// Whether the document starts with a UTF-16 byte order mark; libyaml (like go-yaml) reads
    /// those itself, so they skip the UTF-8 check.
    static func isUTF16(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 2 else { return false }
        return (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)
    }

    /// The line and column (from 1, columns counted in characters) of the byte at `offset`.
    static func mark(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\n")
                || (byte == UInt8(ascii: "\r") && (i + 1 >= bytes.count || bytes[i + 1] != UInt8(ascii: "\n")))
            {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 && byte != UInt8(ascii: "\r") {
                column += 1
            }
            i += 1
        }
        return YAMLMark(line: line, column: column)
    }

    /// "64 MiB" for whole mebibytes, else the byte count.
    static func sizeText(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// "70.3 MiB": one decimal, enough to compare with a limit.
    static func mebibytesText(_ bytes: Int) -> String {
        let tenths = (bytes * 10) >> 20
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
