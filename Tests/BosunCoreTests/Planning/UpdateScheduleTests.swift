import BosunCore
import Testing

struct UpdateScheduleTests {
    typealias Item = UpdateSchedule.Item

    static func names(_ items: [Item]) -> [String] { items.map { "\($0.az ?? "-")/\($0.index)" } }

    static func batches(
        _ items: [Item], canaries: CountOrPercentage, maxInFlight: CountOrPercentage, allZonesAtOnce: Bool = false
    ) -> [UpdateSchedule.Batch<Item>] {
        UpdateSchedule.batches(items, item: { $0 }, canaries: canaries, maxInFlight: maxInFlight, allZonesAtOnce: allZonesAtOnce)
    }

    @Test func consecutiveGroupsWithTheSameSerialShareAPartition() {
        let groups: [(String, Bool)] = [("db", true), ("api", false), ("worker", false), ("web", true), ("smoke", true), ("cache", false)]
        let partitions = UpdateSchedule.partitions(groups) { $0.1 }
        #expect(partitions.map { $0.groups.map(\.0) } == [["db"], ["api", "worker"], ["web", "smoke"], ["cache"]])
        #expect(partitions.map(\.serial) == [true, false, true, false])
    }

    @Test func bootstrapZoneFirstThenNoZoneThenTheOthersAlphabetically() {
        let items = [
            Item(az: "z3", index: 0, bootstrap: false), Item(az: "z1", index: 1, bootstrap: false),
            Item(az: nil, index: 2, bootstrap: false), Item(az: "z2", index: 3, bootstrap: true),
            Item(az: "z2", index: 4, bootstrap: false), Item(az: "z1", index: 5, bootstrap: false),
        ]
        let result = Self.batches(items, canaries: .count(1), maxInFlight: .count(2))
        #expect(result.map(\.az) == ["z2", nil, "z1", "z3"])
        #expect(Self.names(result[0].canaries) == ["z2/3"])
        #expect(Self.names(result[0].rest) == ["z2/4"])
        #expect(Self.names(result[2].rest) == ["z1/1", "z1/5"])
        // Canaries only in the first zone.
        #expect(result.dropFirst().allSatisfy { $0.canaries.isEmpty })
    }

    @Test func canariesAreCountedInTheFirstBatchAndNeverExceedIt() {
        let items = [Item(az: "z1", index: 0, bootstrap: true), Item(az: "z2", index: 1, bootstrap: false), Item(az: "z2", index: 2, bootstrap: false)]
        let result = Self.batches(items, canaries: .count(3), maxInFlight: .count(1))
        #expect(result[0].canaries.count == 1)
        #expect(result[0].rest.isEmpty)
        #expect(result[1].canaries.isEmpty && result[1].count == 2)
    }

    @Test func percentagesTruncateAndMaxInFlightNeverDropsBelowOne() {
        let five = (0..<5).map { Item(az: "z1", index: $0, bootstrap: $0 == 0) }
        let none = Self.batches(five, canaries: .percentage(10), maxInFlight: .percentage(10))
        #expect(none[0].canaries.isEmpty)  // 10% of 5 is 0.5 → 0
        #expect(none[0].maxInFlight == 1)  // clamped up
        let some = Self.batches(five, canaries: .percentage(50), maxInFlight: .percentage(60))
        #expect(some[0].canaries.count == 2)  // 2.5 → 2
        #expect(some[0].maxInFlight == 3)
    }

    @Test func maxInFlightIsComputedPerZoneBatch() {
        let items = (0..<4).map { Item(az: "z1", index: $0, bootstrap: $0 == 0) } + (4..<6).map { Item(az: "z2", index: $0, bootstrap: false) }
        let result = Self.batches(items, canaries: .count(1), maxInFlight: .percentage(50))
        #expect(result.map(\.maxInFlight) == [2, 1])
    }

    @Test func aParallelFirstDeployIsOneBatch() {
        let items = [Item(az: "z2", index: 1, bootstrap: false), Item(az: "z1", index: 0, bootstrap: true), Item(az: "z2", index: 2, bootstrap: false)]
        let result = Self.batches(items, canaries: .count(1), maxInFlight: .count(5), allZonesAtOnce: true)
        #expect(result.count == 1)
        #expect(Self.names(result[0].canaries) == ["z1/0"])
        #expect(Self.names(result[0].rest) == ["z2/1", "z2/2"])
    }

    @Test func nothingToUpdateIsNoBatch() {
        #expect(Self.batches([], canaries: .count(1), maxInFlight: .count(1)).isEmpty)
    }
}
