import BosunCore
import Testing

@testable import Director

/// When jobs came up, from the processes' uptimes in `get_state`: milliseconds from Bosun's agent,
/// whole seconds from the Go bosh-agent (`jobsupervisor`'s `uptime: {secs}`), said to be coarser.
@Suite struct ProcessUptimeTests {
    @Test func millisecondsWinAndTheYoungestProcessDecides() {
        let uptime = InstanceLifecycle.youngestUptime([
            ["uptime": ["ms": 2500, "secs": 2]], ["uptime": ["ms": 900, "secs": 0]],
        ])
        #expect(uptime.milliseconds == 900 && !uptime.wholeSeconds)
    }

    @Test func theGoAgentsWholeSecondsAreUsedAndSaidToBeCoarse() {
        let uptime = InstanceLifecycle.youngestUptime([
            ["name": "web", "state": "running", "uptime": ["secs": 3]], ["uptime": ["secs": 7]],
        ])
        #expect(uptime.milliseconds == 3000 && uptime.wholeSeconds)
    }

    @Test func noUptimeMeansNow() {
        #expect(InstanceLifecycle.youngestUptime([["name": "web"]]).milliseconds == 0)
        #expect(InstanceLifecycle.youngestUptime([]).milliseconds == 0)
    }
}
