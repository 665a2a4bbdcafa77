/// Hands out addresses of manual networks the way BOSH's `IpRepo` does (reference §1.10): the
/// lowest address of a subnet's range that is not the network address, the broadcast address,
/// the gateway, `reserved`, in the `static` pool, or already taken — by any deployment, by an
/// orphaned VM, or earlier in this plan.
public struct IPAllocator: Sendable {
    /// Every address already in use, director-wide.
    public private(set) var taken: Set<IPv4Address>

    public init(taken: Set<IPv4Address>) {
        self.taken = taken
    }

    /// Whether `ip` may be used as a dynamic (non-static) address of `subnet`.
    public static func isDynamicCandidate(_ ip: IPv4Address, in subnet: CloudNetwork.Subnet) -> Bool {
        guard let range = subnet.range, range.contains(ip) else { return false }
        if ip == range.networkAddress || ip == range.broadcastAddress || ip == subnet.gateway { return false }
        return !subnet.reserved.contains(ip) && !subnet.staticIPs.contains(ip)
    }

    /// Marks `ip` as used (an instance keeps its address, or takes a static one).
    public mutating func claim(_ ip: IPv4Address) {
        taken.insert(ip)
    }

    /// Gives `ip` back (an instance of this plan no longer needs it).
    public mutating func release(_ ip: IPv4Address) {
        taken.remove(ip)
    }

    /// The lowest free dynamic address of the first subnet that has one, or nil.
    public mutating func allocate(in subnets: [CloudNetwork.Subnet]) -> (IPv4Address, CloudNetwork.Subnet)? {
        for subnet in subnets {
            guard let range = subnet.range else { continue }
            var candidate = range.networkAddress.value
            let last = range.broadcastAddress.value
            while candidate <= last {
                let ip = IPv4Address(candidate)
                if !taken.contains(ip) && Self.isDynamicCandidate(ip, in: subnet) {
                    taken.insert(ip)
                    return (ip, subnet)
                }
                if candidate == UInt32.max { break }
                candidate += 1
            }
        }
        return nil
    }
}
