import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `bosun start|stop [--hard]|restart|recreate` (`PUT /deployments/<d>/jobs/<target>?state=…`):
/// `target` is `*`, a group, or `group/<index or id>`. Stopping and starting talk to the agents
/// only; `stop --hard` also deletes the VM (disk and address kept, state `detached`); `recreate`
/// and starting a detached instance run the deploy with the deployed manifest for just those
/// instances. All of them follow the deployed manifest's update policy, as a deploy does:
/// `serial` partitions, one AZ at a time, canaries first, `max_in_flight` at once (or
/// `--canaries`/`--max-in-flight`), the watch times, the first failure stopping the rest.
/// `recreate --fix` first deletes the chosen instances' VMs that are gone or do not answer, so
/// they get new VMs instead of the recreate failing on them.
struct ChangeStateJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment else {
            throw DeployError("No deployment given")
        }
        let target = context.arguments["target"]?.stringValue ?? "*"
        let wanted = context.arguments["state"]?.stringValue ?? ""
        guard ["started", "stopped", "detached", "restart", "recreate"].contains(wanted) else {
            throw DeployError("Unknown state '\(wanted)': expected started, stopped, detached, restart or recreate")
        }
        return try await context.withDeploymentLock(name) {
            var state = try await DeploymentState.load(name, on: context.database)
            guard let deployment = state.deployment, !deployment.manifest.isEmpty else {
                throw DeployError("Deployment '\(name)' doesn't exist or was never deployed")
            }
            var chosen = state.instances.filter { Self.matches(target, $0) }
            guard !chosen.isEmpty else { throw DeployError("No instance of deployment '\(name)' matches '\(target)'") }
            let dryRun = context.arguments["dry_run"] == .bool(true)
            if wanted == "recreate", context.arguments["fix"] == .bool(true), !dryRun {
                let deleted = try await DeadVMs.deleteDead(
                    chosen, state: state, deployment: name, context: context, environment: environment,
                    reportAnswering: false)
                if !deleted.isEmpty {
                    state = try await DeploymentState.load(name, on: context.database)
                    chosen = state.instances.filter { Self.matches(target, $0) }
                }
            }
            // `bosh recreate --vms-created-before TIME`: only instances whose VM is older.
            if wanted == "recreate", let cutoff = try UpdateDeploymentJob.vmsCreatedBefore(context) {
                let older = state.instances(withVMCreatedBefore: cutoff)
                chosen = chosen.filter { older.contains($0.uuid) }
            }
            var wake: Set<String> = []
            var recreate: Set<String> = []
            var direct: [InstanceRecord] = []
            for instance in chosen {
                let vm = instance.id.flatMap { state.vms[$0] }
                switch (wanted, vm) {
                case ("recreate", _), ("started", nil), ("restart", nil):
                    if vm == nil { wake.insert(instance.uuid) } else { recreate.insert(instance.uuid) }
                case ("detached", nil), ("stopped", nil):
                    continue  // no VM: nothing runs
                default:
                    direct.append(instance)
                }
            }
            let changer = StateChanger(
                context: context, environment: environment, state: state, wanted: wanted,
                skipDrain: SkipDrain(argument: context.arguments["skip_drain"]) != .none,
                policies: Self.policies(deployment.manifest),
                overrides: UpdateStage.Overrides(
                    canaries: context.arguments["canaries"]?.stringValue.flatMap(CountOrPercentage.init(parsing:)),
                    maxInFlight: context.arguments["max_in_flight"]?.stringValue.flatMap(
                        CountOrPercentage.init(parsing:))))
            if dryRun {
                try Self.recordDryRun(
                    direct, wanted: wanted, context: context, deployLeft: !wake.isEmpty || !recreate.isEmpty)
            } else {
                try await changer.run(direct)
            }
            if !wake.isEmpty || !recreate.isEmpty {
                try await UpdateDeploymentJob.deploy(
                    name: name, manifestText: deployment.manifest,
                    recreate: recreate.isEmpty ? .none : .instances(recreate), wake: wake,
                    context: context, environment: environment)
            }
            return "/deployments/\(name)"
        }
    }

    /// The deployed manifest's update policy per instance group, in manifest order. A manifest
    /// whose `((variables))` keep it from being read as is gets BOSH's most careful defaults.
    static func policies(_ manifest: String) -> [(group: String, policy: UpdatePolicy)] {
        guard let document = try? YAMLValue.parse(manifest, source: "manifest"),
            let parsed = try? DeploymentManifest(document: document)
        else {
            return []
        }
        return parsed.instanceGroups.compactMap { group in group.update.map { (group.name, $0) } }
    }

    /// `--dry-run`: what would happen to the instances the agents would be asked about; a
    /// recreate (or a start of detached instances) plans and renders through the deploy's own
    /// dry run, which says the last word.
    static func recordDryRun(_ direct: [InstanceRecord], wanted: String, context: TaskContext, deployLeft: Bool) throws
    {
        for (offset, instance) in direct.enumerated() {
            try context.events.record(
                stage: "Dry run", task: "\(wouldDo(wanted)) \(instance.group)/\(instance.uuid) (\(instance.index))",
                tags: [instance.group], index: offset + 1, total: direct.count, state: "finished", progress: 100)
        }
        guard !deployLeft else { return }
        try context.events.record(
            stage: "Dry run", task: "nothing was changed", tags: [], index: 1, total: 1, state: "finished",
            progress: 100)
    }

    static func wouldDo(_ state: String) -> String {
        switch state {
        case "started": "would start"
        case "stopped": "would stop"
        case "detached": "would stop and delete the VM of"
        default: "would restart"
        }
    }

    static func stage(_ state: String) -> String {
        switch state {
        case "started": "Starting instance"
        case "stopped": "Stopping instance"
        case "detached": "Stopping instance (hard)"
        default: "Restarting instance"
        }
    }

    /// `*`, `group`, `group/index` or `group/uuid`.
    static func matches(_ target: String, _ instance: InstanceRecord) -> Bool {
        if target == "*" || target.isEmpty { return true }
        let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.first == instance.group else { return false }
        guard parts.count == 2 else { return true }
        return parts[1] == instance.uuid || parts[1] == String(instance.index)
    }
}

/// Stops, starts or restarts instances that have a VM, talking to their agents, in the update
/// policy's order.
struct StateChanger: Sendable {
    let context: TaskContext
    let environment: DeployEnvironment
    let state: DeploymentState
    let wanted: String
    let skipDrain: Bool
    let policies: [(group: String, policy: UpdatePolicy)]
    let overrides: UpdateStage.Overrides

    /// Without a readable policy: one at a time, no canary, a 30 s watch.
    static let fallback = UpdatePolicy(
        canaries: .count(0), maxInFlight: .count(1),
        canaryWatchTime: WatchTime(minimumMilliseconds: 200, maximumMilliseconds: 30_000),
        updateWatchTime: WatchTime(minimumMilliseconds: 200, maximumMilliseconds: 30_000), serial: true,
        vmStrategy: .deleteCreate,
        initialDeployAZUpdateStrategy: .serial)

    struct GroupWork: Sendable {
        var policy: UpdatePolicy
        var members: [InstanceRecord]
    }

    func run(_ instances: [InstanceRecord]) async throws {
        guard !instances.isEmpty else { return }
        let groupNames = policies.map(\.group) + Set(instances.map(\.group)).subtracting(policies.map(\.group)).sorted()
        let groups = groupNames.compactMap { name -> GroupWork? in
            let members = instances.filter { $0.group == name }
            guard !members.isEmpty else { return nil }
            return GroupWork(policy: policies.first { $0.group == name }?.policy ?? Self.fallback, members: members)
        }
        let total = instances.count
        let counter = Collected(0)
        for partition in UpdateSchedule.partitions(groups, serial: { (group: GroupWork) in group.policy.serial }) {
            try await ParallelRun.forEach(partition.groups, limit: partition.serial ? 1 : partition.groups.count) {
                (_: Int, group: GroupWork) in
                try await ParallelRun.inPolicyOrder(
                    group.members, item: { UpdateSchedule.Item(az: $0.az, index: $0.index, bootstrap: $0.bootstrap) },
                    policy: group.policy,
                    overrides: overrides, allZonesAtOnce: false
                ) { instance, _, canary, watch in
                    try await change(instance, canary: canary, watch: watch, index: counter.next(), total: total)
                }
            }
        }
    }

    private func change(_ instance: InstanceRecord, canary: Bool, watch: WatchTime, index: Int, total: Int) async throws
    {
        guard let id = instance.id, let vm = state.vms[id] else { return }
        let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
        let lifecycle = InstanceLifecycle(context: context)
        let steps = VMSteps(context: context, environment: environment)
        let agent = try await steps.waitForAgent(
            agentID: vm.agentID, instanceName: label, timeout: InstanceUpdater.existingAgentTimeout)
        let spec = instance.appliedSpec
        let downtime = try await context.events.step(
            stage: ChangeStateJob.stage(wanted), task: label + (canary ? " (canary)" : ""), tags: [instance.group],
            index: index, total: total,
            data: { downtime in downtime.map { ["downtime_ms": .int(Int($0.milliseconds))] } ?? [:] }
        ) { () async throws -> Duration? in
            var stoppedAt: ContinuousClock.Instant?
            if wanted != "started" {
                stoppedAt = try await lifecycle.stop(
                    agent, spec: spec, shuttingDown: wanted == "detached", skipDrain: skipDrain)
            }
            var runningAt: ContinuousClock.Instant?
            if wanted == "started" || wanted == "restart" {
                // A tmpfs VM that rebooted lost its templates: they are delivered again first.
                if let spec, try await agent.send(.getState(full: false))["job_state"] == "templates_missing" {
                    try await RestoreTemplatesJob.redeliver(
                        instance, spec: spec, agent: agent, context: context, environment: environment)
                    _ = try await agent.send(.apply(spec))
                    _ = try await agent.send(.runScript(name: "pre-start", env: [:]))
                }
                _ = try await agent.send(.start)
                runningAt = try await lifecycle.waitUntilRunning(agent, watch: watch, instanceName: label)
                _ = try await agent.send(.runScript(name: "post-start", env: [:]))
            }
            if wanted == "detached" {
                for disk in try await PersistentDiskRecord.query(on: context.database).filter(\.$instanceID == id)
                    .filter(\.$active == true).all()
                {
                    guard let cid = disk.cid, let vmCID = vm.cid else { continue }
                    _ = try? await agent.send(.unmountDisk(diskCID: cid))
                    try await DiskSteps(context: context).detach(cid, from: vmCID)
                }
                try await steps.delete(vm)
            }
            instance.state = wanted == "restart" ? "started" : wanted
            try await instance.save(on: context.database)
            guard let stoppedAt, let runningAt else { return nil }
            return runningAt - stoppedAt
        }
        if let downtime { context.events.debug("\(label): jobs down for \(downtime.milliseconds) ms (restart)") }
    }
}

extension Collected where Value == Int {
    /// The next number, from 1.
    func next() -> Int {
        var number = 0
        update {
            $0 += 1
            number = $0
        }
        return number
    }
}
