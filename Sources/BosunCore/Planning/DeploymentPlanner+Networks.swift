extension DeploymentPlanner {
    /// The networks of one instance: static addresses from the placement, an address it already
    /// holds while still valid, else the lowest free one of a subnet in its AZ.
    func plannedNetworks(
        _ group: InstanceGroup, slot: InstancePlacement.Slot, instanceName: String, allocator: inout IPAllocator
    ) throws(PlanningError) -> [PlannedNetwork] {
        var planned: [PlannedNetwork] = []
        for wanted in group.networks {
            guard let network = cloudConfig.network(named: wanted.name) else {
                throw PlanningError("Instance group '\(group.name)': network '\(wanted.name)' is not in the cloud config")
            }
            let subnets = network.subnets.filter { subnet in
                subnet.azs.isEmpty || slot.az.map(subnet.azs.contains) == true
            }
            let defaults = group.networks.count == 1 ? ["dns", "gateway"] : wanted.defaults
            var ip: IPv4Address?
            var subnet = subnets.first
            switch network.kind {
            case .manual:
                if let fixed = slot.staticIPs[wanted.name] {
                    guard let home = subnets.first(where: { $0.range?.contains(fixed) == true && $0.staticIPs.contains(fixed) }) else {
                        throw PlanningError(
                            "Instance '\(instanceName)': static IP \(fixed) is not in the static range of a subnet of network '\(wanted.name)' in AZ '\(slot.az ?? "none")'")
                    }
                    allocator.claim(fixed)
                    (ip, subnet) = (fixed, home)
                } else if let held = slot.actual?.ips[wanted.name],
                    let home = subnets.first(where: { IPAllocator.isDynamicCandidate(held, in: $0) })
                {
                    (ip, subnet) = (held, home)
                } else if let (fresh, home) = allocator.allocate(in: subnets) {
                    (ip, subnet) = (fresh, home)
                } else {
                    throw PlanningError(
                        "Failed to reserve IP for '\(instanceName)' on network '\(wanted.name)': no more available addresses in the subnets of AZ '\(slot.az ?? "none")'")
                }
            case .vip:
                ip = slot.staticIPs[wanted.name]
            case .dynamic:
                ip = nil
            }
            planned.append(PlannedNetwork(
                name: wanted.name, kind: network.kind, ip: ip, isStatic: slot.staticIPs[wanted.name] != nil,
                netmask: network.kind == .manual ? subnet?.range?.netmask : nil, gateway: subnet?.gateway,
                dns: subnet?.dns ?? [], defaults: defaults,
                cloudProperties: JSONValue(yaml: subnet?.cloudProperties ?? network.cloudProperties).orEmptyObject))
        }
        return planned
    }
}

extension JSONValue {
    /// `{}` where YAML left a value out (`null`), so CPIs always get a map.
    public var orEmptyObject: JSONValue { self == .null ? [:] : self }

    /// Maps merged key by key, recursively; anything else in `other` replaces what is here.
    public func deepMerging(_ other: JSONValue) -> JSONValue {
        guard case .object(var mine) = self, case .object(let theirs) = other else { return other }
        for (key, value) in theirs {
            mine[key] = mine[key].map { $0.deepMerging(value) } ?? value
        }
        return .object(mine)
    }
}
