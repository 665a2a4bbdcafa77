/// A network of the cloud config.
public struct CloudNetwork: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case manual, dynamic, vip
    }

    /// A manual network's subnet (or a dynamic/vip subnet, which has fewer fields).
    public struct Subnet: Sendable, Hashable {
        public var range: IPv4Network?
        public var gateway: IPv4Address?
        public var dns: [String]
        /// Addresses never handed out.
        public var reserved: IPv4RangeSet
        /// Addresses only for `static_ips`.
        public var staticIPs: IPv4RangeSet
        public var azs: [String]
        public var cloudProperties: YAMLValue
    }

    public var name: String
    public var kind: Kind
    public var subnets: [Subnet]
    public var cloudProperties: YAMLValue

    /// The subnet a static IP belongs to.
    public func subnet(containing ip: IPv4Address) -> Subnet? {
        subnets.first { $0.range?.contains(ip) ?? $0.staticIPs.contains(ip) }
    }

    static func read(_ node: ManifestNode, azNames: Set<String>) -> CloudNetwork? {
        let name = node["name"].string(required: true) ?? ""
        let kind = node["type"].choice(Kind.self) ?? .manual
        var subnets: [Subnet] = []
        let subnetNodes = node["subnets"].list(required: kind == .manual)
        for subnetNode in subnetNodes {
            subnets.append(readSubnet(subnetNode, kind: kind, azNames: azNames))
        }
        if kind == .dynamic && subnetNodes.isEmpty {
            // A dynamic network may put dns and cloud_properties at the top.
            subnets.append(
                Subnet(
                    range: nil, gateway: nil, dns: node["dns"].strings(), reserved: IPv4RangeSet(),
                    staticIPs: IPv4RangeSet(), azs: [], cloudProperties: node["cloud_properties"].freeform()))
        }
        return CloudNetwork(name: name, kind: kind, subnets: subnets, cloudProperties: node["cloud_properties"].freeform())
    }

    private static func readSubnet(_ node: ManifestNode, kind: Kind, azNames: Set<String>) -> Subnet {
        var range: IPv4Network?
        var gateway: IPv4Address?
        if kind == .manual {
            if let text = node["range"].string(required: true), !text.isEmpty {
                range = IPv4Network(text)
                if range == nil {
                    node["range"].problem("expected a CIDR range like \"10.244.0.0/24\", got \"\(text)\"")
                } else if !range!.isCanonical {
                    node["range"].problem("\"\(text)\" is not a network address (did you mean \(range!.networkAddress)/\(range!.prefixLength)?)")
                }
            }
            if let text = node["gateway"].string(required: true), !text.isEmpty {
                gateway = IPv4Address(text)
                if gateway == nil {
                    node["gateway"].problem("expected an IP address, got \"\(text)\"")
                } else if let range, !range.contains(gateway!) {
                    node["gateway"].problem("\(text) is outside the subnet range \(range)")
                }
            }
        }
        let reserved = readRangeSet(node["reserved"], within: range)
        let staticIPs = readRangeSet(node["static"], within: range)
        if let range {
            for ip in staticIPs.addresses where reserved.contains(ip) || ip == gateway || ip == range.networkAddress
                || ip == range.broadcastAddress
            {
                node["static"].problem("\(ip) is also reserved, the gateway, or the network/broadcast address")
                break
            }
        }
        var azs = node["azs"].strings()
        if let single = node["az"].string() {
            if !azs.isEmpty { node["az"].problem("use either az or azs, not both") }
            azs = [single]
        }
        for az in azs where !azNames.contains(az) {
            node[node["az"].isMissing ? "azs" : "az"].problem("unknown AZ \"\(az)\"")
        }
        return Subnet(
            range: range, gateway: gateway, dns: node["dns"].strings(), reserved: reserved, staticIPs: staticIPs, azs: azs,
            cloudProperties: node["cloud_properties"].freeform())
    }

    private static func readRangeSet(_ node: ManifestNode, within range: IPv4Network?) -> IPv4RangeSet {
        var set = IPv4RangeSet()
        let entries: [ManifestNode]
        if case .string? = node.value {
            entries = [node]
        } else {
            entries = node.list()
        }
        for entry in entries {
            guard let text = entry.string(required: true) else { continue }
            do {
                try set.insert(parsing: text)
            } catch {
                entry.problem(error.description)
                continue
            }
            if let range, let last = set.ranges.last,
                !range.contains(IPv4Address(last.lowerBound)) || !range.contains(IPv4Address(last.upperBound))
            {
                entry.problem("\"\(text)\" is outside the subnet range \(range)")
            }
        }
        return set
    }
}
