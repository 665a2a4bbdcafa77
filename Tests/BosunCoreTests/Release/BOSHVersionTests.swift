import BosunCore
import Testing

struct BOSHVersionTests {
    @Test func ordersReleaseAndStemcellVersions() {
        let ordered = ["0+dev.1", "0+dev.2", "0+dev.10", "1.0-rc.1", "1.0-rc.2", "1.0", "1.0.1", "1.2", "1.10", "3586.100", "3586.100+dev.1"]
        for (older, newer) in zip(ordered, ordered.dropFirst()) {
            #expect(BOSHVersion.isOlder(older, than: newer), "\(older) < \(newer)")
            #expect(!BOSHVersion.isOlder(newer, than: older), "\(newer) !< \(older)")
        }
        #expect(BOSHVersion.latest(ordered.shuffled()) == "3586.100+dev.1")
        #expect(BOSHVersion.latest([String]()) == nil)
    }

    @Test func rebaseNumbersTheNextDevVersion() {
        #expect(BOSHVersion.nextDev(after: "0+dev.3") == "0+dev.4")
        #expect(BOSHVersion.nextDev(after: "2") == "2+dev.1")
        #expect(BOSHVersion.nextDev(after: "1.5.0+dev.9") == "1.5.0+dev.10")
        #expect(BOSHVersion.isOlder("0+dev.9", than: BOSHVersion.nextDev(after: "0+dev.9")))
    }
}
