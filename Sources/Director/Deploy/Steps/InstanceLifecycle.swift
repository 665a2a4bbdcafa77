import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// The agent calls around one instance's jobs (reference §2.1): stopping them (pre-stop via
/// drain, drain, stop, post-stop) and starting them (apply, pre-start, start, watch, post-start).
struct InstanceLifecycle: Sendable {
    let context: TaskContext

    /// Drains and stops the jobs; `shutdown` when the VM goes away, `update` when it stays.
    /// Returns when the jobs were told to stop: the start of the instance's downtime.
    func stop(
        _ agent: AgentClient, spec: ApplySpec?, shuttingDown: Bool, skipDrain: Bool, timer: inout StepTimer
    ) async throws -> ContinuousClock.Instant {
        if !skipDrain {
            var wait = try await agent.send(.drain(shuttingDown ? .shutdown : .update, spec)).intValue ?? 0
            // Negative: dynamic drain — wait that long, then ask again.
            while wait < 0 {
                try await context.ledger.measure("drain") { () async throws in
                    try await Task.sleep(for: .seconds(-wait))
                }
                try await context.checkCancelled()
                wait = try await agent.send(.drain(.status, nil)).intValue ?? 0
            }
            if wait > 0 {
                try await context.ledger.measure("drain") { () async throws in try await Task.sleep(for: .seconds(wait))
                }
            }
            timer.lap("drain")
        }
        let stopping = ContinuousClock.now
        _ = try await agent.send(.stop)
        timer.lap("stop")
        _ = try await agent.send(.runScript(name: "post-stop", env: [:]))
        timer.lap("post-stop")
        return stopping
    }

    @discardableResult
    func stop(
        _ agent: AgentClient, spec: ApplySpec?, shuttingDown: Bool, skipDrain: Bool
    ) async throws -> ContinuousClock.Instant {
        var timer = StepTimer()
        return try await stop(agent, spec: spec, shuttingDown: shuttingDown, skipDrain: skipDrain, timer: &timer)
    }

    /// Applies the spec, runs pre-start, starts the jobs and watches them come up; then post-start.
    /// Returns when the jobs were first seen running: the end of the instance's downtime.
    func start(
        _ agent: AgentClient, spec: ApplySpec, watch: WatchTime, instanceName: String, timer: inout StepTimer
    ) async throws -> ContinuousClock.Instant {
        _ = try await agent.send(.apply(spec))
        timer.lap("apply")
        _ = try await agent.send(.runScript(name: "pre-start", env: [:]))
        timer.lap("pre-start")
        _ = try await agent.send(.start)
        timer.lap("start")
        // No watch (`recreate_vm_without_wait`): started is as far as it goes, post-start too.
        guard watch != .none else { return .now }
        let running = try await waitUntilRunning(agent, watch: watch, instanceName: instanceName)
        timer.lap("watch")
        _ = try await agent.send(.runScript(name: "post-start", env: [:]))
        timer.lap("post-start")
        return running
    }

    @discardableResult
    func start(
        _ agent: AgentClient, spec: ApplySpec, watch: WatchTime, instanceName: String
    ) async throws -> ContinuousClock.Instant {
        var timer = StepTimer()
        return try await start(agent, spec: spec, watch: watch, instanceName: instanceName, timer: &timer)
    }

    /// BOSH's watch: sleep the low bound, then poll every step until `running` or the high bound.
    /// Returns since when the jobs run: the agent reports each process's uptime, so the moment
    /// is known however late the watch looks (the youngest process decides).
    @discardableResult
    func waitUntilRunning(
        _ agent: AgentClient, watch: WatchTime, instanceName: String
    ) async throws -> ContinuousClock.Instant {
        var state: JSONValue = [:]
        // A watched agent that died should fail the watch in seconds, not after 45 s per poll.
        var agent = agent
        agent.requestTimeout = min(agent.requestTimeout, .seconds(10))
        for milliseconds in watch.pollSchedule {
            try await context.checkCancelled()
            // Watching is waiting for the jobs to come up, not the director's work.
            try await context.ledger.measure("watch") { () async throws in
                try await Task.sleep(for: .milliseconds(milliseconds))
            }
            state = try await agent.send(.getState(full: false))
            if state["job_state"] == "running" {
                let uptime = Self.youngestUptime(state["processes"]?.arrayValue ?? [])
                if uptime.wholeSeconds {
                    context.events.debug(
                        "\(instanceName): its agent reports uptimes in whole seconds only; downtime is known to within a second"
                    )
                }
                return .now - .milliseconds(uptime.milliseconds)
            }
        }
        let failing = (state["processes"]?.arrayValue ?? []).filter { $0["state"] != "running" }.compactMap {
            $0["name"]?.stringValue
        }
        throw DeployError(
            "'\(instanceName)' is not running after update. Review logs for failed jobs: \(failing.isEmpty ? "(none reported)" : failing.joined(separator: ", "))"
        )
    }
}

extension InstanceLifecycle {
    /// The youngest process's uptime: Bosun's agent reports `uptime.ms`, the Go bosh-agent only
    /// `uptime.secs` (then `wholeSeconds`: the figure is coarser). No process reporting one: 0.
    static func youngestUptime(_ processes: [JSONValue]) -> (milliseconds: Int, wholeSeconds: Bool) {
        var youngest: Int?
        var wholeSeconds = false
        for process in processes {
            let milliseconds: Int
            if let ms = process["uptime"]?["ms"]?.intValue {
                milliseconds = ms
            } else if let secs = process["uptime"]?["secs"]?.intValue {
                milliseconds = secs * 1000
                wholeSeconds = true
            } else {
                continue
            }
            youngest = min(youngest ?? milliseconds, milliseconds)
        }
        return (youngest ?? 0, wholeSeconds)
    }
}

extension JSONValue {
    var intValue: Int? {
        switch self {
        case .int(let value): value
        case .double(let value): Int(value)
        default: nil
        }
    }
}
