import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// "Updating instance groups": groups one after another in manifest order; inside a group,
/// instances the manifest no longer wants are deleted first, then changed instances are updated
/// one AZ at a time — canaries first (in the first AZ only), then the rest — with at most
/// `max_in_flight` at once (reference §1.3). The first failure stops the group: updates already
/// running finish, none starts.
struct UpdateStage {
    let context: TaskContext
    let updater: InstanceUpdater
    let overrides: Overrides

    /// `--canaries` / `--max-in-flight` given with the deploy.
    struct Overrides: Sendable {
        var canaries: CountOrPercentage?
        var maxInFlight: CountOrPercentage?
    }

    func deleteObsolete(_ instances: [ActualInstance], state: DeploymentState, maxInFlight: Int) async throws {
        guard !instances.isEmpty else { return }
        try await ParallelRun.forEach(instances, limit: maxInFlight) { index, instance in
            try await context.events.step(
                stage: "Deleting unneeded instances", task: instance.displayName, index: index + 1, total: instances.count
            ) {
                try await InstanceDeleter(context: context, steps: updater.steps, skipDrain: updater.skipDrain).delete(instance, state: state)
            }
        }
    }

    /// Updates the changed instances of one group.
    func update(group: InstanceGroup, works: [InstanceUpdater.Work], firstDeploy: Bool) async throws {
        guard !works.isEmpty, let policy = group.update else { return }
        // Bootstrap's AZ first, then the others alphabetically; no AZ sorts as "".
        let bootstrapAZ = works.first { $0.plan.bootstrap }?.plan.az
        let zones = Set(works.map { $0.plan.az ?? "" }).sorted { lhs, rhs in
            if lhs == (bootstrapAZ ?? "") { return rhs != lhs }
            if rhs == (bootstrapAZ ?? "") { return false }
            return lhs < rhs
        }
        let batches: [[InstanceUpdater.Work]] =
            firstDeploy && policy.initialDeployAZUpdateStrategy == .parallel
            ? [works] : zones.map { zone in works.filter { ($0.plan.az ?? "") == zone } }
        var canariesDone = false
        var index = 0
        let total = works.count
        for batch in batches {
            let ordered = batch.sorted { ($0.plan.bootstrap ? 0 : 1, $0.plan.index) < ($1.plan.bootstrap ? 0 : 1, $1.plan.index) }
            let limit = max(1, (overrides.maxInFlight ?? policy.maxInFlight).resolve(of: ordered.count))
            var rest = ordered[...]
            if !canariesDone {
                let count = min(ordered.count, (overrides.canaries ?? policy.canaries).resolve(of: ordered.count))
                let canaries = Array(rest.prefix(count))
                rest = rest.dropFirst(count)
                let start = index
                index += canaries.count
                try await ParallelRun.forEach(canaries, limit: limit) { offset, work in
                    try await self.step(work, index: start + offset + 1, total: total, canary: true, watch: policy.canaryWatchTime)
                }
                canariesDone = true
            }
            let start = index
            index += rest.count
            try await ParallelRun.forEach(Array(rest), limit: limit) { offset, work in
                try await self.step(work, index: start + offset + 1, total: total, canary: false, watch: policy.updateWatchTime)
            }
        }
    }

    private func step(_ work: InstanceUpdater.Work, index: Int, total: Int, canary: Bool, watch: WatchTime) async throws {
        var work = work
        work.watch = watch
        let task = work.plan.displayName + (canary ? " (canary)" : "")
        try await context.events.step(stage: "Updating instance", task: task, tags: [work.plan.group], index: index, total: total) {
            try await self.updater.update(work)
        }
    }
}
