/// The extra capacity an update needs while create-swap-delete replacements run next to the VMs
/// they replace: how many VMs, how much RAM and CPU, and how many temporary addresses per network,
/// at the worst moment of the update. Pure, so the plan can show it and the director can check it
/// against the CPI's capacity before anything is touched.
public enum UpdateSurge {
    /// One instance group's part of the update.
    public struct Group: Sendable {
        public var name: String
        public var serial: Bool
        /// Instances in `UpdateSchedule` order, per batch and phase (canaries, then the rest):
        /// for each, whether it is replaced by a swap.
        public var phases: [[Bool]]
        /// At most this many of a phase at once (the batch's `max_in_flight`), per phase.
        public var limits: [Int]
        /// What one replacement VM takes.
        public var ramMB: Int
        public var cpus: Int
        /// Manual networks a replacement needs a temporary address on.
        public var networks: [String]

        public init(name: String, serial: Bool, phases: [[Bool]], limits: [Int], ramMB: Int, cpus: Int, networks: [String]) {
            self.name = name
            self.serial = serial
            self.phases = phases
            self.limits = limits
            self.ramMB = ramMB
            self.cpus = cpus
            self.networks = networks
        }

        /// Replacement VMs alive at once at worst, when at most `surge` swaps run together.
        public func peakVMs(surge: Int?) -> Int {
            zip(phases, limits).map { phase, limit in
                min(phase.filter { $0 }.count, min(limit, surge ?? limit))
            }.max() ?? 0
        }

        public var swaps: Int { phases.joined().filter { $0 }.count }
    }

    public struct Peak: Sendable, Equatable {
        public var vms = 0
        public var ramMB = 0
        public var cpus = 0
        public var addresses: [String: Int] = [:]

        public init() {}

        static func + (lhs: Peak, rhs: Peak) -> Peak {
            var sum = lhs
            sum.vms += rhs.vms
            sum.ramMB += rhs.ramMB
            sum.cpus += rhs.cpus
            sum.addresses.merge(rhs.addresses, uniquingKeysWith: +)
            return sum
        }

        static func largest(_ lhs: Peak, _ rhs: Peak) -> Peak {
            var result = Peak()
            result.vms = max(lhs.vms, rhs.vms)
            result.ramMB = max(lhs.ramMB, rhs.ramMB)
            result.cpus = max(lhs.cpus, rhs.cpus)
            result.addresses = lhs.addresses.merging(rhs.addresses, uniquingKeysWith: max)
            return result
        }
    }

    /// The worst moment: groups of a serial partition one after another (the largest counts),
    /// those of a parallel partition together (they add up); partitions one after another.
    public static func peak(_ groups: [Group], surge: Int? = nil) -> Peak {
        var result = Peak()
        for partition in UpdateSchedule.partitions(groups, serial: \.serial) {
            let peaks = partition.groups.map { group -> Peak in
                let vms = group.peakVMs(surge: surge)
                var peak = Peak()
                peak.vms = vms
                peak.ramMB = vms * group.ramMB
                peak.cpus = vms * group.cpus
                for network in group.networks where vms > 0 { peak.addresses[network, default: 0] += vms }
                return peak
            }
            let partitionPeak = partition.serial ? peaks.reduce(Peak(), Peak.largest) : peaks.reduce(Peak(), +)
            result = Peak.largest(result, partitionPeak)
        }
        return result
    }

    /// What the IaaS has room for.
    public struct Room: Sendable {
        public var vms: Int?
        public var ramMB: Int?
        public var addresses: [String: Int]

        public init(vms: Int?, ramMB: Int?, addresses: [String: Int]) {
            self.vms = vms
            self.ramMB = ramMB
            self.addresses = addresses
        }
    }

    /// What is short, one line each (empty when it fits).
    public static func shortfalls(_ peak: Peak, room: Room) -> [String] {
        var problems: [String] = []
        if let vms = room.vms, peak.vms > vms {
            problems.append("\(peak.vms) replacement VMs at once, room for \(vms) (short by \(peak.vms - vms))")
        }
        if let ram = room.ramMB, peak.ramMB > ram {
            problems.append("\(peak.ramMB) MB of RAM for replacement VMs, \(ram) MB free (short by \(peak.ramMB - ram) MB)")
        }
        for (network, needed) in peak.addresses.sorted(by: { $0.key < $1.key }) {
            let free = room.addresses[network] ?? 0
            if needed > free {
                problems.append("\(needed) temporary addresses on network '\(network)', \(free) free (short by \(needed - free))")
            }
        }
        return problems
    }

    /// The largest surge (swaps at once per group) that fits, or nil when not even one does.
    public static func fittingSurge(_ groups: [Group], room: Room) -> Int? {
        let most = groups.flatMap(\.limits).max() ?? 1
        for surge in stride(from: most, through: 1, by: -1) where shortfalls(peak(groups, surge: surge), room: room).isEmpty {
            return surge
        }
        return nil
    }
}
