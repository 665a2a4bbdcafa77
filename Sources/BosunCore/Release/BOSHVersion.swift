/// Orders BOSH release and stemcell versions (`1.2.3`, `0+dev.7`, `3586.100`, `1.0-rc.2`) as
/// `latest` needs: dot- or dash-separated segments compared numerically when both are numbers,
/// a `+dev.N` suffix ordered after its base, a `-pre` suffix before it.
public enum BOSHVersion {
    public static func isOlder(_ lhs: String, than rhs: String) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// The newest of `versions`, or nil when there are none.
    public static func latest(_ versions: some Sequence<String>) -> String? {
        versions.max { isOlder($0, than: $1) }
    }

    /// The dev version after `version`, as `upload-release --rebase` numbers a release:
    /// `0+dev.3` → `0+dev.4`, `2` → `2+dev.1`.
    public static func nextDev(after version: String) -> String {
        let (base, dev) = split(version)
        if let dev, dev.hasPrefix("dev."), let number = Int(dev.dropFirst(4)) { return "\(base)+dev.\(number + 1)" }
        return "\(base)+dev.1"
    }

    static func compare(_ lhs: String, _ rhs: String) -> Int {
        let (lhsBase, lhsDev) = split(lhs)
        let (rhsBase, rhsDev) = split(rhs)
        let base = compareSegments(lhsBase, rhsBase)
        if base != 0 { return base }
        switch (lhsDev, rhsDev) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case (let l?, let r?): return compareSegments(l, r)
        }
    }

    private static func split(_ version: String) -> (String, String?) {
        guard let plus = version.firstIndex(of: "+") else { return (version, nil) }
        return (String(version[..<plus]), String(version[version.index(after: plus)...]))
    }

    private static func compareSegments(_ lhs: String, _ rhs: String) -> Int {
        // "1.0-rc.2": the part after a dash is a pre-release, older than "1.0".
        let (lhsMain, lhsPre) = splitPre(lhs)
        let (rhsMain, rhsPre) = splitPre(rhs)
        let main = compareDotted(lhsMain, rhsMain)
        if main != 0 { return main }
        switch (lhsPre, rhsPre) {
        case (nil, nil): return 0
        case (nil, _): return 1
        case (_, nil): return -1
        case (let l?, let r?): return compareDotted(l, r)
        }
    }

    private static func splitPre(_ text: String) -> (String, String?) {
        guard let dash = text.firstIndex(of: "-") else { return (text, nil) }
        return (String(text[..<dash]), String(text[text.index(after: dash)...]))
    }

    private static func compareDotted(_ lhs: String, _ rhs: String) -> Int {
        let left = lhs.split(separator: ".", omittingEmptySubsequences: false)
        let right = rhs.split(separator: ".", omittingEmptySubsequences: false)
        for position in 0..<max(left.count, right.count) {
            guard position < left.count else { return -1 }
            guard position < right.count else { return 1 }
            let l = left[position], r = right[position]
            if let a = Int(l), let b = Int(r) {
                if a != b { return a < b ? -1 : 1 }
            } else if l != r {
                return l < r ? -1 : 1
            }
        }
        return 0
    }
}
