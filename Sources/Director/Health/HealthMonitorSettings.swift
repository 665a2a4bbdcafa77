import BosunCore

/// The health monitor's knobs (`hm:` in the director's config; BOSH's health_monitor job
/// properties, with a shorter analysis interval): when an agent counts as gone, how often the
/// director looks, whether it recreates what died, and when it holds back (meltdown).
public struct HealthMonitorSettings: Sendable, Equatable {
    /// No heartbeat for this long: the agent has timed out.
    public var agentTimeout: Duration = .seconds(60)
    /// How often agents are checked (BOSH's `analyze_agents`, 60 s there).
    public var analysisInterval: Duration = .seconds(10)
    /// Recreate the VMs of timed-out agents (BOSH's `resurrector_enabled`, off by default there;
    /// on here: dead VMs coming back by themselves is why operators run a director).
    public var resurrector = true
    /// Meltdown: at least this many instances of a deployment down…
    public var minimumDownJobs = 5
    /// …and at least this share of them…
    public var percentThreshold = 0.2
    /// …counting instances found down within this many seconds.
    public var timeThreshold: Double = 600

    public init() {}

    init(_ node: YAMLValue, path: String) throws {
        guard case .map = node else { throw DirectorConfiguration.Invalid(description: "\(path): hm must be a map") }
        func seconds(_ key: String) throws -> Double? {
            switch node[key] {
            case nil, .null?: return nil
            case .int(let value)? where value > 0: return Double(value)
            case .float(let value)? where value > 0: return value
            case .uint(let value)?: return Double(value)
            case let other?:
                throw DirectorConfiguration.Invalid(
                    description:
                        "\(path): hm.\(key) must be a positive number of seconds, found \(other.goDisplayString)")
            }
        }
        if let value = try seconds("agent_timeout") { agentTimeout = .milliseconds(Int(value * 1000)) }
        if let value = try seconds("analysis_interval") { analysisInterval = .milliseconds(Int(value * 1000)) }
        if let value = try seconds("time_threshold") { timeThreshold = value }
        switch node["resurrector"] {
        case nil, .null?: break
        case .bool(let on)?: resurrector = on
        case let other?:
            throw DirectorConfiguration.Invalid(
                description: "\(path): hm.resurrector must be true or false, found \(other.goDisplayString)")
        }
        switch node["minimum_down_jobs"] {
        case nil, .null?: break
        case .int(let count)? where count >= 0: minimumDownJobs = count
        case let other?:
            throw DirectorConfiguration.Invalid(
                description: "\(path): hm.minimum_down_jobs must be a count, found \(other.goDisplayString)")
        }
        switch node["percent_threshold"] {
        case nil, .null?: break
        case .float(let share)? where (0...1).contains(share): percentThreshold = share
        case .int(let share)? where (0...1).contains(share): percentThreshold = Double(share)
        case let other?:
            throw DirectorConfiguration.Invalid(
                description: "\(path): hm.percent_threshold must be between 0 and 1, found \(other.goDisplayString)")
        }
    }

    /// BOSH's deployment states: `normal` with nothing down, `meltdown` when at least
    /// `minimumDownJobs` and at least `percentThreshold` of the instances are down, else `managed`.
    public enum DeploymentHealth: Sendable, Equatable {
        case normal, managed, meltdown
    }

    public func health(down: Int, of total: Int) -> DeploymentHealth {
        guard down > 0 else { return .normal }
        let share = total > 0 ? Double(down) / Double(total) : 1
        return down >= minimumDownJobs && share >= percentThreshold ? .meltdown : .managed
    }
}
