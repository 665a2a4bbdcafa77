import AgentProtocol

/// The filesystem layout the agent keeps on every VM, rooted at `/var/vcap` like BOSH's.
public struct AgentPaths: Sendable, Equatable {
    public var root: String

    public init(root: String = "/var/vcap") { self.root = root }

    public var jobsDirectory: String { root + "/jobs" }
    public var packagesDirectory: String { root + "/packages" }
    public var dataDirectory: String { root + "/data" }
    public var storeDirectory: String { root + "/store" }
    public var systemDirectory: String { root + "/bosh" }
}
