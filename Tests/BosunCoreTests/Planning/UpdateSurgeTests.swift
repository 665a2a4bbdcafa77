import BosunCore
import Testing

struct UpdateSurgeTests {
    static func group(_ name: String, serial: Bool = true, phases: [[Bool]], limits: [Int], ram: Int = 512) -> UpdateSurge.Group {
        UpdateSurge.Group(name: name, serial: serial, phases: phases, limits: limits, ramMB: ram, cpus: 1, networks: ["default"])
    }

    @Test func aGroupNeedsAtMostMaxInFlightReplacementsAtOnce() {
        // Canary, then 5 swaps with max_in_flight 2: at worst two replacement VMs.
        let web = Self.group("web", phases: [[true], [true, true, true, false, true]], limits: [2, 2])
        let peak = UpdateSurge.peak([web])
        #expect(peak.vms == 2)
        #expect(peak.ramMB == 1024)
        #expect(peak.addresses == ["default": 2])
        #expect(UpdateSurge.peak([web], surge: 1).vms == 1)
    }

    @Test func parallelGroupsAddUpSerialOnesDoNot() {
        let a = Self.group("a", serial: false, phases: [[true, true, true]], limits: [3])
        let b = Self.group("b", serial: false, phases: [[true, true]], limits: [2], ram: 256)
        let c = Self.group("c", serial: true, phases: [[true, true, true, true]], limits: [4])
        let peak = UpdateSurge.peak([a, b, c])
        #expect(peak.vms == 5)  // a and b together (3 + 2) outweigh c alone (4)
        #expect(peak.ramMB == 3 * 512 + 2 * 256)
    }

    @Test func instancesThatAreNotSwappedNeedNoRoom() {
        let kept = Self.group("db", phases: [[false, false]], limits: [2])
        #expect(UpdateSurge.peak([kept]) == UpdateSurge.Peak())
    }

    @Test func shortfallsSayWhatIsShortAndByHowMuch() {
        let web = Self.group("web", phases: [[true, true, true, true]], limits: [4])
        let room = UpdateSurge.Room(vms: 3, ramMB: 1024, addresses: ["default": 1])
        let problems = UpdateSurge.shortfalls(UpdateSurge.peak([web]), room: room)
        #expect(problems == [
            "4 replacement VMs at once, room for 3 (short by 1)",
            "2048 MB of RAM for replacement VMs, 1024 MB free (short by 1024 MB)",
            "4 temporary addresses on network 'default', 1 free (short by 3)",
        ])
        #expect(UpdateSurge.fittingSurge([web], room: room) == 1)
        #expect(UpdateSurge.fittingSurge([web], room: UpdateSurge.Room(vms: 0, ramMB: nil, addresses: ["default": 9])) == nil)
        #expect(UpdateSurge.fittingSurge([web], room: UpdateSurge.Room(vms: nil, ramMB: nil, addresses: ["default": 9])) == 4)
    }
}
