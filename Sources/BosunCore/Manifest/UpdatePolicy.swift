/// `canaries` / `max_in_flight`: an absolute count or a percentage of the instances.
public enum CountOrPercentage: Sendable, Hashable, CustomStringConvertible {
    case count(Int)
    case percentage(Int)

    /// BOSH truncates: `N%` of `size` is `floor(N * size / 100)`, capped at `size`.
    public func resolve(of size: Int) -> Int {
        switch self {
        case .count(let n): return n
        case .percentage(let p): return min(size, p * size / 100)
        }
    }

    public var description: String {
        switch self {
        case .count(let n): return String(n)
        case .percentage(let p): return "\(p)%"
        }
    }

    /// `5` or `25%`, as `--canaries` and `--max-in-flight` take them.
    public init?(parsing text: String) {
        if text.hasSuffix("%"), let p = Int(text.dropLast()), (0...100).contains(p) {
            self = .percentage(p)
        } else if let n = Int(text), n >= 0 {
            self = .count(n)
        } else {
            return nil
        }
    }

    static func read(_ node: ManifestNode, required: Bool) -> CountOrPercentage? {
        guard let value = node.value, value != .null else {
            if required { node.problem("is required") }
            return nil
        }
        switch value {
        case .int(let n) where n >= 0:
            return .count(n)
        case .string(let text) where text.hasSuffix("%"):
            if let p = Int(text.dropLast()), p >= 0, p <= 100 { return .percentage(p) }
        case .string(let text):
            if let n = Int(text), n >= 0 { return .count(n) }
        default:
            break
        }
        node.problem("expected an integer or a percentage like \"25%\", got \(ManifestNode.describe(value))")
        return nil
    }
}

/// `canary_watch_time` / `update_watch_time`: milliseconds, fixed (`30000`) or a range (`"1000-30000"`).
public struct WatchTime: Sendable, Hashable, CustomStringConvertible {
    public var minimumMilliseconds: Int
    public var maximumMilliseconds: Int

    public init(minimumMilliseconds: Int, maximumMilliseconds: Int) {
        self.minimumMilliseconds = minimumMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// No watch at all: the jobs are started and not waited for.
    public static let none = WatchTime(minimumMilliseconds: 0, maximumMilliseconds: 0)

    public var description: String {
        minimumMilliseconds == maximumMilliseconds
            ? String(maximumMilliseconds) : "\(minimumMilliseconds)-\(maximumMilliseconds)"
    }

    /// When to poll the agent while watching: first after `low`, then every `step`, where
    /// `step = clamp((high - low) / 9, 1s, 15s)` — BOSH's schedule.
    public var pollSchedule: [Int] {
        var schedule = [minimumMilliseconds]
        let span = maximumMilliseconds - minimumMilliseconds
        guard span > 0 else { return schedule }
        let step = min(max(span / 9, 1000), 15000)
        for _ in 0..<(span / step) { schedule.append(step) }
        return schedule
    }

    static func read(_ node: ManifestNode, required: Bool) -> WatchTime? {
        guard let value = node.value, value != .null else {
            if required { node.problem("is required") }
            return nil
        }
        let invalid = "expected milliseconds or a range like \"1000-30000\", got \(ManifestNode.describe(value))"
        switch value {
        case .int(let ms) where ms >= 0:
            return WatchTime(minimumMilliseconds: ms, maximumMilliseconds: ms)
        case .string(let text):
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: " ") }
            if parts.count == 1, let ms = Int(parts[0]), ms >= 0 {
                return WatchTime(minimumMilliseconds: ms, maximumMilliseconds: ms)
            }
            if parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), low >= 0 {
                guard low <= high else {
                    node.problem("range \"\(text)\" starts after it ends (\(low) > \(high))")
                    return nil
                }
                return WatchTime(minimumMilliseconds: low, maximumMilliseconds: high)
            }
        default:
            break
        }
        node.problem(invalid)
        return nil
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}

/// How VMs are replaced when an instance needs a new one.
public enum VMStrategy: String, Sendable, CaseIterable {
    case deleteCreate = "delete-create"
    case createSwapDelete = "create-swap-delete"
}

/// `initial_deploy_az_update_strategy`.
public enum AZUpdateStrategy: String, Sendable, CaseIterable {
    case serial, parallel
}

/// An `update` block as written; any field may be absent (instance groups inherit the rest).
public struct UpdateOverrides: Sendable, Hashable {
    public var canaries: CountOrPercentage?
    public var maxInFlight: CountOrPercentage?
    public var canaryWatchTime: WatchTime?
    public var updateWatchTime: WatchTime?
    public var serial: Bool?
    public var vmStrategy: VMStrategy?
    public var initialDeployAZUpdateStrategy: AZUpdateStrategy?

    public init() {}

    static func read(_ node: ManifestNode, requireCore: Bool) -> UpdateOverrides {
        var update = UpdateOverrides()
        if requireCore { node.map(required: true) } else { node.map() }
        update.canaries = CountOrPercentage.read(node["canaries"], required: requireCore)
        update.maxInFlight = CountOrPercentage.read(node["max_in_flight"], required: requireCore)
        if case .count(0)? = update.maxInFlight { node["max_in_flight"].problem("must be at least 1") }
        update.canaryWatchTime = WatchTime.read(node["canary_watch_time"], required: requireCore)
        update.updateWatchTime = WatchTime.read(node["update_watch_time"], required: requireCore)
        update.serial = node["serial"].bool()
        update.vmStrategy = node["vm_strategy"].choice(VMStrategy.self)
        update.initialDeployAZUpdateStrategy = node["initial_deploy_az_update_strategy"].choice(AZUpdateStrategy.self)
        return update
    }
}

/// A resolved `update` policy: the deployment block with an instance group's overrides applied.
public struct UpdatePolicy: Sendable, Hashable {
    public var canaries: CountOrPercentage
    public var maxInFlight: CountOrPercentage
    public var canaryWatchTime: WatchTime
    public var updateWatchTime: WatchTime
    public var serial: Bool
    public var vmStrategy: VMStrategy
    public var initialDeployAZUpdateStrategy: AZUpdateStrategy

    public init(
        canaries: CountOrPercentage, maxInFlight: CountOrPercentage, canaryWatchTime: WatchTime, updateWatchTime: WatchTime, serial: Bool,
        vmStrategy: VMStrategy, initialDeployAZUpdateStrategy: AZUpdateStrategy
    ) {
        self.canaries = canaries
        self.maxInFlight = maxInFlight
        self.canaryWatchTime = canaryWatchTime
        self.updateWatchTime = updateWatchTime
        self.serial = serial
        self.vmStrategy = vmStrategy
        self.initialDeployAZUpdateStrategy = initialDeployAZUpdateStrategy
    }

    /// Instances updated at once: never below one.
    public func maxInFlight(of size: Int) -> Int { max(1, maxInFlight.resolve(of: size)) }

    public func canaries(of size: Int) -> Int { min(size, canaries.resolve(of: size)) }

    /// Nil when a required field is missing from both blocks (already reported as a problem).
    static func resolve(_ deployment: UpdateOverrides, _ group: UpdateOverrides) -> UpdatePolicy? {
        guard let canaries = group.canaries ?? deployment.canaries,
            let maxInFlight = group.maxInFlight ?? deployment.maxInFlight,
            let canaryWatch = group.canaryWatchTime ?? deployment.canaryWatchTime,
            let updateWatch = group.updateWatchTime ?? deployment.updateWatchTime
        else { return nil }
        return UpdatePolicy(
            canaries: canaries, maxInFlight: maxInFlight, canaryWatchTime: canaryWatch,
            updateWatchTime: updateWatch, serial: group.serial ?? deployment.serial ?? true,
            vmStrategy: group.vmStrategy ?? deployment.vmStrategy ?? .deleteCreate,
            initialDeployAZUpdateStrategy: group.initialDeployAZUpdateStrategy
                ?? deployment.initialDeployAZUpdateStrategy ?? .serial)
    }
}
