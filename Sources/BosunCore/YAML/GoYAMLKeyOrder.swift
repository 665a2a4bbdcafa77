/// The order go-yaml v2 prints map keys in (its `keyList.Less`): numbers and booleans by value,
/// then other kinds by Go's reflect kind, and strings "naturally" — runs of digits compare as
/// numbers and letters sort before other characters.
enum GoYAMLKeyOrder {
    static func sorted(_ keys: [YAMLValue]) -> [YAMLValue] {
        if keys.count < 2 { return keys }
        return keys.sorted(by: less)
    }

    /// Go's `reflect.Kind` numbering for the kinds go-yaml produces.
    private static func kind(_ value: YAMLValue) -> Int {
        switch value {
        case .bool: return 1
        case .int: return 2
        case .uint: return 11
        case .float: return 14
        case .null: return 20  // a nil interface{} stays reflect.Interface
        case .map: return 21
        case .array: return 23
        case .string: return 24
        }
    }

    private static func numeric(_ value: YAMLValue) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    static func less(_ a: YAMLValue, _ b: YAMLValue) -> Bool {
        if let af = numeric(a), let bf = numeric(b) {
            if af != bf { return af < bf }
            let (ak, bk) = (kind(a), kind(b))
            if ak != bk { return ak < bk }
            switch (a, b) {
            case (.int(let x), .int(let y)): return x < y
            case (.uint(let x), .uint(let y)): return x < y
            case (.float(let x), .float(let y)): return x < y
            case (.bool(let x), .bool(let y)): return !x && y
            default: return false
            }
        }
        guard case .string(let astr) = a, case .string(let bstr) = b else { return kind(a) < kind(b) }
        return naturalLess(astr, bstr)
    }

    static func naturalLess(_ a: String, _ b: String) -> Bool {
        if a.utf8.allSatisfy({ $0 < 0x80 }) && b.utf8.allSatisfy({ $0 < 0x80 }) {
            return naturalLess(Array(a.utf8).map(UInt32.init), Array(b.utf8).map(UInt32.init))
        }
        return naturalLess(a.unicodeScalars.map(\.value), b.unicodeScalars.map(\.value))
    }

    private static func naturalLess(_ ar: [UInt32], _ br: [UInt32]) -> Bool {
        var i = 0
        while i < ar.count && i < br.count {
            if ar[i] == br[i] {
                i += 1
                continue
            }
            let al = isLetter(ar[i])
            let bl = isLetter(br[i])
            if al && bl { return ar[i] < br[i] }
            if al || bl { return bl }
            var an: Int64 = 0
            var bn: Int64 = 0
            if ar[i] == 0x30 || br[i] == 0x30 {
                var j = i - 1
                while j >= 0 && isDigit(ar[j]) {
                    if ar[j] != 0x30 {
                        an = 1
                        bn = 1
                        break
                    }
                    j -= 1
                }
            }
            var ai = i
            while ai < ar.count && isDigit(ar[ai]) {
                an = an &* 10 &+ Int64(ar[ai]) &- 0x30
                ai += 1
            }
            var bi = i
            while bi < br.count && isDigit(br[bi]) {
                bn = bn &* 10 &+ Int64(br[bi]) &- 0x30
                bi += 1
            }
            if an != bn { return an < bn }
            if ai != bi { return ai < bi }
            return ar[i] < br[i]
        }
        return ar.count < br.count
    }

    private static func isLetter(_ v: UInt32) -> Bool {
        if v < 0x80 { return (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) }
        guard let scalar = Unicode.Scalar(v) else { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    private static func isDigit(_ v: UInt32) -> Bool {
        if v < 0x80 { return v >= 0x30 && v <= 0x39 }
        guard let scalar = Unicode.Scalar(v) else { return false }
        return scalar.properties.generalCategory == .decimalNumber
    }
}
