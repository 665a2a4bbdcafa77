/// One network of a planned instance, with everything the CPI and the agent need.
public struct PlannedNetwork: Sendable, Hashable {
    public var name: String
    public var kind: CloudNetwork.Kind
    /// Nil for dynamic networks (the CPI or DHCP decides).
    public var ip: IPv4Address?
    public var isStatic: Bool
    public var netmask: IPv4Address?
    public var gateway: IPv4Address?
    public var dns: [String]
    /// `dns`, `gateway` when this network provides them (with one network, both).
    public var defaults: [String]
    public var cloudProperties: JSONValue

    public init(
        name: String, kind: CloudNetwork.Kind, ip: IPv4Address?, isStatic: Bool, netmask: IPv4Address?, gateway: IPv4Address?,
        dns: [String], defaults: [String], cloudProperties: JSONValue
    ) {
        self.name = name
        self.kind = kind
        self.ip = ip
        self.isStatic = isStatic
        self.netmask = netmask
        self.gateway = gateway
        self.dns = dns
        self.defaults = defaults
        self.cloudProperties = cloudProperties
    }
}

/// What a deploy does to one instance that the manifest wants.
public struct InstancePlan: Sendable, Hashable {
    public var group: String
    public var index: Int
    public var id: String
    public var az: String?
    public var bootstrap: Bool
    /// The instance as it is now; nil for a new instance.
    public var actual: ActualInstance?
    public var networks: [PlannedNetwork]
    public var vm: VMDescription
    public var persistentDisk: DiskRequirement?
    public var reasons: [ChangeReason]

    public var isNew: Bool { actual == nil }
    public var displayName: String { "\(group)/\(id) (\(index))" }
    /// A VM must be created: the instance is new, lost its VM, or its VM is replaced.
    public var needsVM: Bool { actual?.vm == nil || needsRecreate }
    /// The existing VM is replaced by a new one.
    public var needsRecreate: Bool { actual?.vm != nil && reasons.contains { $0.replacesVM } }
    public var isChanged: Bool { !reasons.isEmpty }

    /// The address other jobs reach this instance at: the network with `default: [addressable]`,
    /// else the one providing the gateway, else the first.
    public var address: IPv4Address? { addressNetwork?.ip }

    /// The network `address` is on.
    public var addressNetwork: PlannedNetwork? {
        networks.first { $0.defaults.contains("addressable") } ?? networks.first { $0.defaults.contains("gateway") } ?? networks.first
    }

    /// The instance's DNS name on its address network (`features.use_dns_addresses`).
    public func dnsName(deployment: String) -> String? {
        addressNetwork.map { DNSNames.instance(id, group: group, network: $0.name, deployment: deployment) }
    }
}

/// What a deploy does to one instance group.
public struct InstanceGroupPlan: Sendable {
    public var name: String
    public var instances: [InstancePlan]
    /// Instances the group no longer wants (scale-down, dropped AZ, dropped static IP).
    public var obsolete: [ActualInstance]
}

/// The whole plan: instance groups in manifest order, and instances of groups the manifest dropped.
public struct DeploymentPlan: Sendable {
    public var instanceGroups: [InstanceGroupPlan]
    public var obsoleteGroups: [String: [ActualInstance]]

    public var allInstances: [InstancePlan] { instanceGroups.flatMap(\.instances) }
    public var allObsolete: [ActualInstance] { instanceGroups.flatMap(\.obsolete) + obsoleteGroups.values.flatMap { $0 } }
}

/// Why no plan could be made; names the instance group, instance or network.
public struct PlanningError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
