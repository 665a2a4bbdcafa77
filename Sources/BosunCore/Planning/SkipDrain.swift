/// Which instance groups a deploy stops without running their drain scripts: `bosh deploy
/// --skip-drain` (every group, sent as `skip_drain=*`) or `--skip-drain=g1,g2` (those groups).
public enum SkipDrain: Sendable, Hashable {
    case none
    case all
    case groups(Set<String>)

    /// Reads the `skip_drain` query value: absent or empty for none, `*` (or `true`) for all,
    /// else comma-separated group names.
    public init(query value: String?) {
        guard let value, !value.isEmpty, value != "false" else {
            self = .none
            return
        }
        if value == "*" || value == "true" {
            self = .all
            return
        }
        let names = value.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
        self = names.contains("*") ? .all : names.isEmpty ? .none : .groups(Set(names))
    }

    /// The value for a task's arguments and the query: nil for none.
    public var queryValue: String? {
        switch self {
        case .none: nil
        case .all: "*"
        case .groups(let names): names.sorted().joined(separator: ",")
        }
    }

    public func covers(_ group: String) -> Bool {
        switch self {
        case .none: false
        case .all: true
        case .groups(let names): names.contains(group)
        }
    }
}
