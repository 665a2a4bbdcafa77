import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// The agent calls around one instance's jobs (reference §2.1): stopping them (pre-stop via
/// drain, drain, stop, post-stop) and starting them (apply, pre-start, start, watch, post-start).
struct InstanceLifecycle: Sendable {
    let context: TaskContext

    /// Drains and stops the jobs; `shutdown` when the VM goes away, `update` when it stays.
    func stop(_ agent: AgentClient, spec: ApplySpec?, shuttingDown: Bool, skipDrain: Bool) async throws {
        if !skipDrain {
            var wait = try await agent.send(.drain(shuttingDown ? .shutdown : .update, spec)).intValue ?? 0
            // Negative: dynamic drain — wait that long, then ask again.
            while wait < 0 {
                try await context.ledger.measure("drain") { () async throws in try await Task.sleep(for: .seconds(-wait)) }
                try await context.checkCancelled()
                wait = try await agent.send(.drain(.status, nil)).intValue ?? 0
            }
            if wait > 0 { try await context.ledger.measure("drain") { () async throws in try await Task.sleep(for: .seconds(wait)) } }
        }
        _ = try await agent.send(.stop)
        _ = try await agent.send(.runScript(name: "post-stop", env: [:]))
    }

    /// Applies the spec, runs pre-start, starts the jobs and watches them come up; then post-start.
    func start(_ agent: AgentClient, spec: ApplySpec, watch: WatchTime, instanceName: String) async throws {
        _ = try await agent.send(.apply(spec))
        _ = try await agent.send(.runScript(name: "pre-start", env: [:]))
        _ = try await agent.send(.start)
        try await waitUntilRunning(agent, watch: watch, instanceName: instanceName)
        _ = try await agent.send(.runScript(name: "post-start", env: [:]))
    }

    /// BOSH's watch: sleep the low bound, then poll every step until `running` or the high bound.
    func waitUntilRunning(_ agent: AgentClient, watch: WatchTime, instanceName: String) async throws {
        var state: JSONValue = [:]
        for milliseconds in watch.pollSchedule {
            try await context.checkCancelled()
            // Watching is waiting for the jobs to come up, not the director's work.
            try await context.ledger.measure("watch") { () async throws in try await Task.sleep(for: .milliseconds(milliseconds)) }
            state = try await agent.send(.getState(full: false))
            if state["job_state"] == "running" { return }
        }
        let failing = (state["processes"]?.arrayValue ?? []).filter { $0["state"] != "running" }.compactMap { $0["name"]?.stringValue }
        throw DeployError(
            "'\(instanceName)' is not running after update. Review logs for failed jobs: \(failing.isEmpty ? "(none reported)" : failing.joined(separator: ", "))")
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
