/// Which instances an instance group has after a deploy: who stays, who goes, who is new, in
/// which AZ, with which index — and, for groups with static IPs, which address each one gets.
///
/// - Instances in AZs the group still lists are kept; the rest are obsolete.
/// - Scaling down removes from the AZ with the most instances, highest index first; scaling up
///   adds to the AZ with the fewest, so AZs stay even. New indices continue after the highest
///   index the group ever had in the database, never reusing one still in use.
/// - With static IPs, an instance keeps its address while the manifest lists it, and a new
///   instance goes to an AZ of the subnet its address is in.
struct InstancePlacement {
    struct Slot {
        var index: Int
        var id: String
        var az: String?
        var bootstrap: Bool
        var actual: ActualInstance?
        /// Static addresses chosen for this instance, by network name.
        var staticIPs: [String: IPv4Address]
    }

    var slots: [Slot]
    var obsolete: [ActualInstance]

    static func place(
        _ group: InstanceGroup, existing: [ActualInstance], cloudConfig: CloudConfig, makeID: () -> String
    ) throws(PlanningError) -> InstancePlacement {
        let zones: [String?] = group.azs.isEmpty ? [nil] : group.azs.map { $0 }
        var kept = existing.filter { zones.contains($0.az) }
        var obsolete = existing.filter { !zones.contains($0.az) }
        var nextIndex = (existing.map(\.index).max() ?? -1) + 1
        func newSlot(az: String?) -> Slot {
            defer { nextIndex += 1 }
            return Slot(index: nextIndex, id: makeID(), az: az, bootstrap: false, actual: nil, staticIPs: [:])
        }
        func existingSlot(_ instance: ActualInstance) -> Slot {
            Slot(index: instance.index, id: instance.id, az: instance.az, bootstrap: false, actual: instance, staticIPs: [:])
        }

        let staticNetworks = group.networks.filter { !$0.staticIPs.isEmpty }
        guard let primary = staticNetworks.first else {
            while kept.count > group.instances {
                let zone = busiestZone(zones, in: kept.map(\.az))
                let victim = kept.filter { $0.az == zone }.max { $0.index < $1.index }!
                kept.removeAll { $0.id == victim.id }
                obsolete.append(victim)
            }
            var slots = kept.map(existingSlot)
            while slots.count < group.instances {
                slots.append(newSlot(az: quietestZone(zones, in: slots.map(\.az))))
            }
            return InstancePlacement(slots: slots.sorted { $0.index < $1.index }, obsolete: obsolete)
        }

        // Static IPs: the primary static network decides placement.
        guard let cloudNetwork = cloudConfig.network(named: primary.name) else {
            throw PlanningError("Instance group '\(group.name)': network '\(primary.name)' is not in the cloud config")
        }
        var zonesOfIP: [IPv4Address: [String?]] = [:]
        for ip in primary.staticIPs {
            guard let subnet = cloudNetwork.subnet(containing: ip) else {
                throw PlanningError("Instance group '\(group.name)': static IP \(ip) is in no subnet of network '\(primary.name)'")
            }
            let fitting = subnet.azs.isEmpty ? zones : zones.filter { $0.map(subnet.azs.contains) ?? false }
            if fitting.isEmpty {
                throw PlanningError(
                    "Instance group '\(group.name)': static IP \(ip) belongs to AZs \(subnet.azs.joined(separator: ", ")) the instance group does not use")
            }
            zonesOfIP[ip] = fitting
        }
        var free = primary.staticIPs
        var slots: [Slot] = []
        // First those whose address is still listed, then the others while room is left.
        for instance in kept {
            guard let ip = instance.ips[primary.name], let position = free.firstIndex(of: ip),
                zonesOfIP[ip]?.contains(instance.az) == true
            else { continue }
            free.remove(at: position)
            var slot = existingSlot(instance)
            slot.staticIPs[primary.name] = ip
            slots.append(slot)
        }
        for instance in kept where !slots.contains(where: { $0.id == instance.id }) {
            if slots.count < group.instances, let position = free.firstIndex(where: { zonesOfIP[$0]?.contains(instance.az) == true }) {
                var slot = existingSlot(instance)
                slot.staticIPs[primary.name] = free.remove(at: position)
                slots.append(slot)
            } else {
                obsolete.append(instance)
            }
        }
        for ip in free {
            var slot = newSlot(az: quietestZone(zonesOfIP[ip] ?? zones, in: slots.map(\.az)))
            slot.staticIPs[primary.name] = ip
            slots.append(slot)
        }
        slots.sort { $0.index < $1.index }
        // Further static networks: an instance keeps a listed address, the others are dealt in order.
        for network in staticNetworks.dropFirst() {
            var remaining = network.staticIPs.filter { ip in !slots.contains { $0.actual?.ips[network.name] == ip } }
            for position in slots.indices {
                if let held = slots[position].actual?.ips[network.name], network.staticIPs.contains(held) {
                    slots[position].staticIPs[network.name] = held
                } else if !remaining.isEmpty {
                    slots[position].staticIPs[network.name] = remaining.removeFirst()
                }
            }
        }
        return InstancePlacement(slots: slots, obsolete: obsolete)
    }

    /// The bootstrap instance stays the same while it exists; otherwise it is the lowest index of
    /// the alphabetically first AZ.
    mutating func chooseBootstrap() {
        for position in slots.indices { slots[position].bootstrap = false }
        if let current = slots.firstIndex(where: { $0.actual?.bootstrap == true }) {
            slots[current].bootstrap = true
            return
        }
        let order = Dictionary(uniqueKeysWithValues: Set(slots.map(\.az)).sorted { ($0 ?? "") < ($1 ?? "") }.enumerated().map { ($1, $0) })
        if let first = slots.indices.min(by: { (order[slots[$0].az]!, slots[$0].index) < (order[slots[$1].az]!, slots[$1].index) }) {
            slots[first].bootstrap = true
        }
    }

    /// The zone holding the most of `placed` (the later one on a tie), to take an instance from.
    private static func busiestZone(_ zones: [String?], in placed: [String?]) -> String? {
        var best = zones[0]
        var bestCount = -1
        for zone in zones {
            let count = placed.filter { $0 == zone }.count
            if count >= bestCount { (best, bestCount) = (zone, count) }
        }
        return best
    }

    /// The zone holding the fewest of `placed` (the earlier one on a tie), to add an instance to.
    private static func quietestZone(_ zones: [String?], in placed: [String?]) -> String? {
        var best = zones[0]
        var bestCount = Int.max
        for zone in zones {
            let count = placed.filter { $0 == zone }.count
            if count < bestCount { (best, bestCount) = (zone, count) }
        }
        return best
    }
}
