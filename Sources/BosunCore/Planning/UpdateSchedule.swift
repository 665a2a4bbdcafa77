/// The order in which an update touches instances (reference §1.3), as pure data so it can be
/// tested and shown before anything runs.
///
/// - Instance groups are cut into *partitions* of consecutive groups with the same `serial`; a
///   serial partition updates its groups one after another, a `serial: false` partition updates
///   all of its groups at once. Partitions run in manifest order.
/// - Inside a group, instances are updated one AZ at a time (all at once on a first deploy with
///   `initial_deploy_az_update_strategy: parallel`): the bootstrap instance's AZ first, then
///   instances without an AZ, then the other AZs alphabetically; bootstrap first, then by index.
/// - Canaries run only in the first batch: `min(canaries(n), n)` of its `n` instances, in the
///   same pool of `max_in_flight(n)` slots as the rest, which starts once every canary is done.
public enum UpdateSchedule {
    /// Groups with their `serial` flag, cut into partitions in order.
    public static func partitions<Group>(_ groups: [Group], serial: (Group) -> Bool) -> [Partition<Group>] {
        var result: [Partition<Group>] = []
        for group in groups {
            let isSerial = serial(group)
            if let last = result.last, last.serial == isSerial {
                result[result.count - 1].groups.append(group)
            } else {
                result.append(Partition(serial: isSerial, groups: [group]))
            }
        }
        return result
    }

    public struct Partition<Group> {
        public var serial: Bool
        public var groups: [Group]
    }

    /// One thing to update, as the schedule needs to see it.
    public struct Item: Sendable, Hashable {
        public var az: String?
        public var index: Int
        public var bootstrap: Bool

        public init(az: String?, index: Int, bootstrap: Bool) {
            self.az = az
            self.index = index
            self.bootstrap = bootstrap
        }
    }

    /// One AZ's worth of instances (or all of them on a parallel first deploy).
    public struct Batch<Element> {
        public var az: String?
        /// Updated first, with the canary watch time; empty after the first batch.
        public var canaries: [Element]
        public var rest: [Element]
        /// How many of this batch run at once.
        public var maxInFlight: Int

        public var count: Int { canaries.count + rest.count }
    }

    /// The batches for one instance group's changed instances.
    public static func batches<Element>(
        _ elements: [Element], item: (Element) -> Item, canaries: CountOrPercentage, maxInFlight: CountOrPercentage,
        allZonesAtOnce: Bool
    ) -> [Batch<Element>] {
        guard !elements.isEmpty else { return [] }
        let keyed = elements.map { (item: item($0), element: $0) }
        let bootstrapZone = keyed.first { $0.item.bootstrap }.map { $0.item.az }
        let ordered = keyed.sorted { lhs, rhs in
            (lhs.item.bootstrap ? 0 : 1, lhs.item.index) < (rhs.item.bootstrap ? 0 : 1, rhs.item.index)
        }
        var zones: [String?] = []
        for entry in ordered where !zones.contains(entry.item.az) { zones.append(entry.item.az) }
        zones.sort { lhs, rhs in zoneRank(lhs, bootstrap: bootstrapZone) < zoneRank(rhs, bootstrap: bootstrapZone) }

        let groups: [(az: String?, elements: [Element])] =
            allZonesAtOnce
            ? [(nil, ordered.map(\.element))]
            : zones.map { zone in (zone, ordered.filter { $0.item.az == zone }.map(\.element)) }
        var result: [Batch<Element>] = []
        for (position, group) in groups.enumerated() {
            let size = group.elements.count
            let canaryCount = position == 0 ? min(size, canaries.resolve(of: size)) : 0
            result.append(
                Batch(
                    az: group.az, canaries: Array(group.elements.prefix(canaryCount)),
                    rest: Array(group.elements.dropFirst(canaryCount)), maxInFlight: max(1, min(size, maxInFlight.resolve(of: size)))))
        }
        return result
    }

    /// Bootstrap's zone, then no zone, then the rest alphabetically.
    private static func zoneRank(_ zone: String?, bootstrap: String??) -> (Int, String) {
        if let bootstrap, zone == bootstrap { return (0, "") }
        guard let zone else { return (1, "") }
        return (2, zone)
    }
}
