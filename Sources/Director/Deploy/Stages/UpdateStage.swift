import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// "Updating instance groups": inside a group, instances the manifest no longer wants are deleted
/// first, then changed instances are updated in `UpdateSchedule`'s order — one AZ at a time,
/// canaries first (in the first AZ only), then the rest — with at most `max_in_flight` at once
/// (reference §1.3). The first failure stops the group: updates already running finish, none starts.
struct UpdateStage {
    let context: TaskContext
    let updater: InstanceUpdater
    let overrides: Overrides
    /// Swaps at once per group (`--surge`, or what `--fit-surge` chose); nil: `max_in_flight`.
    var surge: Int? = nil
    /// Instance name → how long its jobs were down, for the task's summary.
    let downtimes = Collected<[(instance: String, downtime: Duration)]>([])

    /// `--canaries` / `--max-in-flight` given with the deploy.
    struct Overrides: Sendable {
        var canaries: CountOrPercentage?
        var maxInFlight: CountOrPercentage?
        /// Start the jobs without waiting for them to run (cck's `recreate_vm_without_wait`).
        var skipWatch = false
    }

    func deleteObsolete(_ instances: [ActualInstance], state: DeploymentState, maxInFlight: Int) async throws {
        guard !instances.isEmpty else { return }
        try await ParallelRun.forEach(instances, limit: maxInFlight) { index, instance in
            try await context.events.step(
                stage: "Deleting unneeded instances", task: instance.displayName, index: index + 1,
                total: instances.count
            ) {
                try await InstanceDeleter(
                    context: context, steps: updater.steps, skipDrain: updater.skipDrain.covers(instance.group)
                ).delete(instance, state: state)
            }
        }
    }

    /// Updates the changed instances of one group in `UpdateSchedule`'s batches; phases with
    /// swaps run at most `surge` at once.
    func update(group: InstanceGroup, works: [InstanceUpdater.Work], firstDeploy: Bool) async throws {
        guard !works.isEmpty, let policy = group.update else { return }
        let total = works.count
        try await ParallelRun.inPolicyOrder(
            works, item: { UpdateSchedule.Item(az: $0.plan.az, index: $0.plan.index, bootstrap: $0.plan.bootstrap) },
            policy: policy,
            overrides: overrides, allZonesAtOnce: firstDeploy && policy.initialDeployAZUpdateStrategy == .parallel,
            limit: { phase, maxInFlight in
                let swapping = phase.contains { $0.plan.needsRecreate && updater.swapMode($0) != nil }
                return swapping ? min(maxInFlight, surge ?? maxInFlight) : maxInFlight
            }
        ) { work, position, canary, watch in
            try await self.step(work, index: position, total: total, canary: canary, watch: watch)
        }
    }

    private func step(_ work: InstanceUpdater.Work, index: Int, total: Int, canary: Bool, watch: WatchTime) async throws
    {
        var work = work
        work.watch = overrides.skipWatch ? .none : watch
        let task = work.plan.displayName + (canary ? " (canary)" : "")
        let replaced = work.vm != nil && work.plan.needsRecreate
        let strategy: String? =
            switch (replaced, updater.swapMode(work)) {
            case (false, _): nil
            case (true, .keepAddress?): "create-swap-delete"
            case (true, .newAddress?): "create-swap-delete, new address"
            case (true, nil): work.strategy == .createSwapDelete ? "delete-create, static IPs" : "delete-create"
            }
        let downtime = try await context.events.step(
            stage: "Updating instance", task: task, tags: [work.plan.group], index: index, total: total,
            data: { downtime in
                var data: [String: JSONValue] = [:]
                if let downtime { data["downtime_ms"] = .int(Int(downtime.milliseconds)) }
                if let strategy { data["vm_strategy"] = .string(strategy) }
                return .object(data)
            }
        ) {
            try await self.updater.update(work)
        }
        if let downtime {
            context.events.debug(
                "\(work.plan.displayName): jobs down for \(downtime.milliseconds) ms\(strategy.map { " (\($0))" } ?? "")"
            )
            downtimes.update { $0.append((work.plan.displayName, downtime)) }
        }
    }

    /// The last event of the update: how long jobs were down, in total and at worst.
    func reportDowntime() throws {
        let all = downtimes.value
        guard !all.isEmpty else { return }
        let total = all.reduce(Duration.zero) { $0 + $1.downtime }
        let worst = all.max { $0.downtime < $1.downtime }!
        let line =
            "\(all.count) instance\(all.count == 1 ? "" : "s") stopped and started: jobs down \(Self.seconds(total)) in total, longest \(Self.seconds(worst.downtime)) (\(worst.instance))"
        try context.events.record(
            stage: "Downtime", task: line, tags: [], index: 1, total: 1, state: "finished", progress: 100,
            data: [
                "instances": .object(
                    Dictionary(
                        all.map { ($0.instance, JSONValue.int(Int($0.downtime.milliseconds))) },
                        uniquingKeysWith: { $1 })),
                "total_ms": .int(Int(total.milliseconds)),
            ])
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", Double(duration.milliseconds) / 1000)
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
