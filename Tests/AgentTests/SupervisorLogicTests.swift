import Testing

@testable import Agent

@Suite struct MonitFileTests {
    @Test func parsesWhatReleasesWrite() throws {
        let text = """
            check process greeter
              with pidfile /var/vcap/sys/run/greeter/greeter.pid
              start program "/var/vcap/jobs/greeter/bin/ctl start" with timeout 60 seconds
              stop program "/var/vcap/jobs/greeter/bin/ctl stop"
              group vcap
              depends on helper, logger
              if totalmem > 300 Mb for 5 cycles then restart   # resource tests are ignored

            check process helper
              with pidfile /var/vcap/sys/run/greeter/helper.pid
              start program = "/bin/sh -c 'exec helper'"
              group vcap
            """
        let processes = try MonitFile.parse(text)
        #expect(processes.count == 2)
        #expect(processes[0] == MonitProcess(
            name: "greeter", pidfile: "/var/vcap/sys/run/greeter/greeter.pid", startProgram: "/var/vcap/jobs/greeter/bin/ctl start",
            stopProgram: "/var/vcap/jobs/greeter/bin/ctl stop", startTimeoutSeconds: 60, groups: ["vcap"], dependsOn: ["helper", "logger"]))
        #expect(processes[1].startProgram == "/bin/sh -c 'exec helper'")
        #expect(processes[1].stopProgram == nil)
    }

    @Test func refusesStatementsOutsideACheck() {
        #expect(throws: MonitFile.ParseError.self) { _ = try MonitFile.parse("start program \"x\"") }
        #expect(throws: MonitFile.ParseError.self) { _ = try MonitFile.parse("check file x") }
    }
}

@Suite struct ProcessStateMachineTests {
    @Test func anAdoptedProcessRunsWithoutBeingStartedAgainAndIsWatchedLikeAnyOther() {
        var process = ProcessStateMachine(startGrace: 1, stopGrace: 15)
        #expect(process.adopt(now: 10) == .none)
        #expect(process.status == "running")
        #expect(process.start(now: 10.5) == .none)  // start after adoption spawns nothing
        #expect(process.adopt(now: 11) == .none)
        #expect(process.state == .running(since: 10))
        #expect(process.exited(now: 12, description: "killed by signal 9") == .alert("killed by signal 9"))
        #expect(process.stop(now: 12) == .none)
        var stopping = ProcessStateMachine(stopGrace: 15)
        _ = stopping.adopt(now: 0)
        #expect(stopping.stop(now: 1) == .terminate)
    }

    @Test func startsThenRunsAfterTheGrace() {
        var process = ProcessStateMachine(startGrace: 1)
        #expect(process.start(now: 0) == .spawn)
        #expect(process.status == "starting")
        #expect(process.tick(now: 0.5) == .none)
        #expect(process.tick(now: 1) == .none)
        #expect(process.status == "running")
    }

    @Test func crashesRestartWithGrowingBackOff() {
        var process = ProcessStateMachine(startGrace: 1, baseRestartDelay: 1, maxRestartDelay: 8, stableAfter: 60)
        _ = process.start(now: 0)
        _ = process.tick(now: 1)
        #expect(process.exited(now: 2, description: "exit 1") == .alert("exit 1"))
        #expect(process.status == "failing")
        #expect(process.tick(now: 2.5) == .none)
        #expect(process.tick(now: 3) == .spawn)  // 1 s later
        #expect(process.exited(now: 3.1, description: "exit 1") == .alert("exit 1"))
        #expect(process.tick(now: 4.5) == .none)
        #expect(process.tick(now: 5.1) == .spawn)  // 2 s later
        _ = process.exited(now: 5.2, description: "x")
        #expect(process.state == .crashed(at: 5.2, restartAt: 9.2))  // 4 s
        _ = process.tick(now: 9.2)
        _ = process.exited(now: 9.3, description: "x")
        #expect(process.state == .crashed(at: 9.3, restartAt: 17.3))  // 8 s, the cap
        _ = process.tick(now: 17.3)
        _ = process.exited(now: 17.4, description: "x")
        #expect(process.state == .crashed(at: 17.4, restartAt: 25.4))  // still capped
    }

    @Test func aStableProcessEarnsItsBackOffReset() {
        var process = ProcessStateMachine(startGrace: 1, baseRestartDelay: 1, maxRestartDelay: 60, stableAfter: 10)
        _ = process.start(now: 0)
        _ = process.exited(now: 0.5, description: "x")
        _ = process.tick(now: 1.5)
        _ = process.exited(now: 2, description: "x")  // second crash: 2 s
        #expect(process.consecutiveCrashes == 2)
        _ = process.tick(now: 4)
        _ = process.tick(now: 5)
        _ = process.exited(now: 100, description: "x")  // ran 96 s: counts as the first crash again
        #expect(process.state == .crashed(at: 100, restartAt: 101))
    }

    @Test func stopTerminatesThenKillsAfterTheGrace() {
        var process = ProcessStateMachine(startGrace: 1, stopGrace: 15)
        _ = process.start(now: 0)
        _ = process.tick(now: 1)
        #expect(process.stop(now: 10) == .terminate)
        #expect(process.tick(now: 20) == .none)
        #expect(process.tick(now: 25) == .kill)
        #expect(process.exited(now: 25.1, description: "killed") == .none)  // an asked-for exit is no crash
        #expect(process.status == "stopped")
        #expect(process.start(now: 30) == .spawn)
    }

    @Test func stoppingACrashedProcessCancelsItsRestart() {
        var process = ProcessStateMachine()
        _ = process.start(now: 0)
        _ = process.exited(now: 0.2, description: "x")
        #expect(process.stop(now: 0.3) == .none)
        #expect(process.tick(now: 100) == .none)
        #expect(process.status == "stopped")
    }
}

@Suite struct JobStateTests {
    func machine(_ state: ProcessStateMachine.State) -> ProcessStateMachine {
        var process = ProcessStateMachine(startGrace: 1)
        switch state {
        case .running:
            _ = process.start(now: 0)
            _ = process.tick(now: 5)
        case .starting:
            _ = process.start(now: 0)
        case .crashed:
            _ = process.start(now: 0)
            _ = process.exited(now: 0.1, description: "x")
        default:
            break
        }
        return process
    }

    @Test func followsTheReference() {
        let running = machine(.running(since: 0))
        let starting = machine(.starting(since: 0))
        let crashed = machine(.crashed(at: 0, restartAt: 1))
        #expect(JobState.compute(processes: [], stopped: false, templatesMissing: false) == "running")
        #expect(JobState.compute(processes: [running, running], stopped: false, templatesMissing: false) == "running")
        #expect(JobState.compute(processes: [running, starting], stopped: false, templatesMissing: false) == "starting")
        #expect(JobState.compute(processes: [running, crashed], stopped: false, templatesMissing: false) == "failing")
        #expect(JobState.compute(processes: [running], stopped: true, templatesMissing: false) == "stopped")
        #expect(JobState.compute(processes: [running], stopped: false, templatesMissing: true) == "templates_missing")
    }
}

@Suite struct DrainOutcomeTests {
    @Test(arguments: [("0", DrainOutcome.waitThenDone(0)), ("5\n", .waitThenDone(5)), ("-3", .waitThenAskAgain(3)), (" -1 ", .waitThenAskAgain(1))])
    func readsTheScriptsAnswer(output: String, outcome: DrainOutcome) throws {
        #expect(try DrainOutcome.parse(output) == outcome)
    }

    @Test func refusesAnythingButAnInteger() {
        #expect(throws: DrainOutcome.Invalid.self) { _ = try DrainOutcome.parse("done") }
        #expect(throws: DrainOutcome.Invalid.self) { _ = try DrainOutcome.parse("") }
    }
}

@Suite struct MonitOrderTests {
    @Test func dependenciesStartFirst() {
        let processes = [
            MonitProcess(name: "web", dependsOn: ["db", "cache"]), MonitProcess(name: "cache", dependsOn: ["db"]),
            MonitProcess(name: "db"),
        ]
        #expect(MonitOrder.sorted(processes).map(\.name) == ["db", "cache", "web"])
        let cycle = [MonitProcess(name: "a", dependsOn: ["b"]), MonitProcess(name: "b", dependsOn: ["a"])]
        #expect(MonitOrder.sorted(cycle).count == 2)
    }
}

@Suite struct LogGlobTests {
    @Test func starsStayInOneComponentAndDoubleStarsSpanMany() {
        #expect(LogGlob("**/*.log").matches("web.log"))
        #expect(LogGlob("**/*.log").matches("web/archive/old.log"))
        #expect(!LogGlob("**/*.log").matches("web/notes.txt"))
        #expect(LogGlob("web/*.log").matches("web/a.log"))
        #expect(!LogGlob("web/*.log").matches("web/archive/a.log"))
        #expect(LogGlob("web/**").matches("web/archive/a.log"))
        #expect(LogGlob("/web/?.log").matches("web/a.log"))
        #expect(!LogGlob("?").matches("/"))
        #expect(LogGlob("**/*").matches("a/b/c"))
    }
}
