import BosunCore
import FluentKit
import Foundation

extension HealthMonitor {
    /// An instance whose agent should be heard.
    struct Expected: Sendable {
        var deployment: String
        var instance: InstanceRecord
        var agentID: String
        var key: String { "\(deployment)/\(instance.group)/\(instance.uuid)" }
        var name: String { "\(instance.group)/\(instance.uuid)" }
    }

    /// One round: every active VM of every instance whose deployment is not locked; agents silent
    /// for longer than `agent_timeout` are down; per deployment, meltdown or a `scan_and_fix`.
    func analyze() async throws {
        let expected = try await expectedAgents()
        let locked = Set(try await LockManager(database: database).current().map(\.name))
        let now = ContinuousClock.now
        let wallNow = Date()
        var down: [String: [(Expected, Duration)]] = [:]
        var newlyDown: [(Expected, Duration)] = []
        /// Silent for over half the timeout: counted for meltdown, not yet recreated. VMs that
        /// die together cross the timeout up to a heartbeat apart; without this, the first one
        /// to cross would be resurrected alone before the meltdown is seen.
        var suspects: [String: Set<String>] = [:]
        var totals: [String: Int] = [:]
        state.withLock { tracking in
            for agent in expected {
                totals[agent.deployment, default: 0] += 1
                guard !locked.contains(LockManager.name(type: "deployment", resource: [agent.deployment])) else { continue }
                guard !tracking.shutDown.contains(agent.agentID) else { continue }
                // An agent first expected now gets a full timeout (a new VM, a restarted director).
                let seen = tracking.lastSeen[agent.agentID] ?? now
                tracking.lastSeen[agent.agentID] = seen
                let silent = now - seen
                if silent > settings.agentTimeout / 2 { suspects[agent.deployment, default: []].insert(agent.key) }
                if silent > settings.agentTimeout {
                    down[agent.deployment, default: []].append((agent, silent))
                    if tracking.reportedDown.insert(agent.key).inserted {
                        tracking.downSince[agent.key] = wallNow
                        newlyDown.append((agent, silent))
                    }
                }
            }
            // Instances heard again (or gone) are no longer down.
            let stillDown = Set(down.values.flatMap { $0.map(\.0.key) })
            // (Instances of locked deployments were not looked at: they stay as they were.)
            let notLookedAt = Set(expected.filter { locked.contains(LockManager.name(type: "deployment", resource: [$0.deployment])) }.map(\.key))
            tracking.reportedDown = tracking.reportedDown.filter { stillDown.contains($0) || notLookedAt.contains($0) }
            // Agents no VM wants any more are forgotten.
            let wanted = Set(expected.map(\.agentID))
            tracking.lastSeen = tracking.lastSeen.filter { wanted.contains($0.key) }
            tracking.downSince = tracking.downSince.filter { wallNow.timeIntervalSince($0.value) <= settings.timeThreshold }
        }
        board.analyzed(
            known: Set(expected.map(\.agentID)), timedOut: Set(down.values.flatMap { $0.map(\.0.agentID) }))
        let recorder = EventRecorder(database: database)
        for (agent, silent) in newlyDown {
            logger.warning("Agent timed out", metadata: ["director.instance": "\(agent.name)", "director.agent": "\(agent.agentID)"])
            try await recorder.record(
                user: "health_monitor", action: "alert", objectType: "instance", objectName: agent.name, deployment: agent.deployment,
                instance: agent.name,
                context: ["reason": .string("agent \(agent.agentID) timed out: no heartbeat for \(Int(silent.components.seconds)) s")])
        }
        for (deployment, dead) in down.sorted(by: { $0.key < $1.key }) {
            try await decide(
                deployment, dead: dead.map(\.0), newly: Set(newlyDown.map(\.0.key)), suspects: suspects[deployment] ?? [],
                total: totals[deployment] ?? dead.count, recorder: recorder)
        }
        // A deployment with nothing down is out of meltdown.
        state.withLock { tracking in tracking.inMeltdown = tracking.inMeltdown.filter { down[$0] != nil } }
    }

    /// Meltdown (announce once, touch nothing), or one `scan_and_fix` for the dead instances
    /// unless one is already queued or running for the deployment.
    /// - Parameter newly: instances found down this round; a decision not to act is an event
    ///   once per instance, not every round.
    private func decide(
        _ deployment: String, dead: [Expected], newly: Set<String>, suspects: Set<String>, total: Int, recorder: EventRecorder
    ) async throws {
        let recent = state.withLock { tracking in Set(tracking.downSince.keys.filter { $0.hasPrefix(deployment + "/") }) }.union(suspects).count
        switch settings.health(down: max(recent, dead.count), of: total) {
        case .meltdown:
            let announce = state.withLock { $0.inMeltdown.insert(deployment).inserted }
            guard announce else { return }
            let reason = "meltdown: \(max(recent, dead.count)) of \(total) instances down within \(Int(settings.timeThreshold)) s; nothing is recreated"
            logger.error("Deployment in meltdown", metadata: ["director.deployment": "\(deployment)", "director.reason": "\(reason)"])
            try await recorder.record(
                user: "health_monitor", action: "alert", objectType: "deployment", objectName: deployment, deployment: deployment,
                context: ["reason": .string(reason), "instances": .array(dead.map { .string($0.name) })])
        case .managed, .normal:
            guard settings.resurrector else { return }
            func skip(_ agents: [Expected], _ reason: String) async throws {
                for agent in agents where newly.contains(agent.key) {
                    try await recorder.record(
                        user: "health_monitor", action: "skip resurrection", objectType: "instance", objectName: agent.name,
                        deployment: deployment, instance: agent.name, context: ["reason": .string(reason)])
                }
            }
            if resurrection.isPaused {
                try await skip(dead, "resurrection is paused (bosun update-resurrection off)")
                return
            }
            let configs = try await ConfigStore(database: database).list(type: "resurrection", name: nil, latest: true, limit: nil)
            let rules = ResurrectionRules(configs: configs.map { ($0.name, $0.content) })
            var allowed: [Expected] = []
            for agent in dead {
                if let config = rules.disablingConfig(deployment: deployment, group: agent.instance.group) {
                    try await skip([agent], "resurrection is disabled by resurrection config '\(config)'")
                } else {
                    allowed.append(agent)
                }
            }
            guard !allowed.isEmpty else { return }
            guard try await TaskRecord.open("scan_and_fix", deployment: deployment, on: database).isEmpty else { return }
            _ = try await tasks.enqueue(
                type: "scan_and_fix", description: "scan and fix", user: "health_monitor", deployment: deployment,
                arguments: ["instances": .array(allowed.map { .string($0.instance.uuid) }), "canaries": "0", "links_first": true])
        }
    }

    /// Active VMs of instances not detached (started or stopped), with their deployment's name.
    func expectedAgents() async throws -> [Expected] {
        let deployments = Dictionary(
            try await DeploymentRecord.query(on: database).all().compactMap { record in record.id.map { ($0, record.name) } },
            uniquingKeysWith: { first, _ in first })
        let instances = Dictionary(
            try await InstanceRecord.query(on: database).filter(\.$state != "detached").all().compactMap { record in record.id.map { ($0, record) } },
            uniquingKeysWith: { first, _ in first })
        return try await VMRecord.query(on: database).filter(\.$active == true).all().compactMap { vm in
            guard vm.cid != nil, let id = vm.instanceID, let instance = instances[id], let deployment = deployments[instance.deploymentID] else {
                return nil
            }
            return Expected(deployment: deployment, instance: instance, agentID: vm.agentID)
        }
    }
}
