import BosunCore
import CPI
import FluentKit
import Foundation

/// "Planning update", before anything is touched: what the swaps need at worst — replacement VMs,
/// RAM, temporary addresses — against the room the CPI and the networks have (checked before
/// compiling: an update that does not fit fails then, saying what is short and by how much,
/// unless `--fit-surge` lets it lower the number of swaps at once until it fits); and, once
/// rendering has said which instances' configuration changed, per instance group how many
/// instances change and how their VMs are replaced (create-swap-delete, or delete-create and
/// why) — the very plan the update then carries out.
struct UpdatePlanStage {
    let context: TaskContext
    let prepared: Preparation.Prepared
    let overrides: UpdateStage.Overrides
    var canMoveAddresses: Bool { prepared.canMoveAddresses }
    let firstDeploy: Bool

    struct Outcome: Sendable {
        /// Swaps at once per group; nil for no limit beyond `max_in_flight`.
        var surge: Int?
        /// What the capacity check found and decided, said after the plan's own lines.
        var lines: [String]
    }

    /// Records the plan's lines, then the capacity check's, under "Planning update".
    func record(_ plan: DeploymentPlan, capacity: Outcome) throws {
        var lines: [String] = []
        for groupPlan in plan.instanceGroups {
            guard let group = prepared.manifest.instanceGroup(named: groupPlan.name), group.lifecycle == .service,
                let policy = group.update
            else { continue }
            let changed = groupPlan.instances.filter(\.isChanged)
            if !changed.isEmpty || !groupPlan.obsolete.isEmpty {
                lines.append(
                    describe(
                        groupPlan, changed: changed, replaced: changed.filter(\.needsRecreate),
                        strategy: policy.vmStrategy))
            }
        }
        for line in lines + capacity.lines {
            try context.events.record(
                stage: "Planning update", task: line, tags: [], index: 1, total: 1, state: "finished", progress: 100)
        }
    }

    func run(surge requested: Int?, fitSurge: Bool) async throws -> Outcome {
        var lines: [String] = []
        var groups: [UpdateSurge.Group] = []
        for groupPlan in prepared.plan.instanceGroups {
            guard let group = prepared.manifest.instanceGroup(named: groupPlan.name), group.lifecycle == .service,
                let policy = group.update
            else { continue }
            let changed = groupPlan.instances.filter(\.isChanged)
            let replaced = changed.filter(\.needsRecreate)
            func mode(_ instance: InstancePlan) -> SwapMode? {
                SwapMode.choose(
                    strategy: policy.vmStrategy, canMoveAddresses: canMoveAddresses, networks: instance.networks)
            }
            let batches = UpdateSchedule.batches(
                changed, item: { UpdateSchedule.Item(az: $0.az, index: $0.index, bootstrap: $0.bootstrap) },
                canaries: overrides.canaries ?? policy.canaries,
                maxInFlight: overrides.maxInFlight ?? policy.maxInFlight,
                allZonesAtOnce: firstDeploy && policy.initialDeployAZUpdateStrategy == .parallel)
            let phases = batches.flatMap { [$0.canaries, $0.rest] }.filter { !$0.isEmpty }
            let sample = replaced.first?.vm.cloudProperties
            groups.append(
                UpdateSurge.Group(
                    name: group.name, serial: policy.serial,
                    phases: phases.map { $0.map { $0.needsRecreate && mode($0) != nil } },
                    limits: batches.flatMap { batch in
                        [batch.canaries, batch.rest].filter { !$0.isEmpty }.map { _ in batch.maxInFlight }
                    },
                    ramMB: sample?["ram"]?.intValue ?? 0, cpus: sample?["cpu"]?.intValue ?? 0,
                    // Only address-keeping swaps boot replacements on temporary addresses.
                    networks: replaced.first.map {
                        mode($0) == .keepAddress
                            ? $0.networks.filter { $0.kind == .manual && $0.ip != nil }.map(\.name) : []
                    } ?? []))
        }
        var surge = requested
        let peak = UpdateSurge.peak(groups, surge: surge)
        if peak.vms > 0 {
            let room = try await self.room(for: peak)
            let short = UpdateSurge.shortfalls(peak, room: room)
            if !short.isEmpty {
                guard fitSurge, let fitting = UpdateSurge.fittingSurge(groups, room: room) else {
                    throw DeployError(
                        "Not enough capacity for this update's create-swap-delete replacements: "
                            + short.joined(separator: "; ")
                            + ". Lower max_in_flight, deploy with --surge N, or let --fit-surge choose")
                }
                surge = fitting
                lines.append(
                    "surge lowered to \(fitting) swap\(fitting == 1 ? "" : "s") at once per group to fit: \(short.joined(separator: "; "))"
                )
            }
            let final = UpdateSurge.peak(groups, surge: surge)
            let addresses = final.addresses.sorted { $0.key < $1.key }.map { "\($0.value) on \($0.key)" }.joined(
                separator: ", ")
            lines.append(
                "at worst \(final.vms) replacement VM\(final.vms == 1 ? "" : "s") next to the VMs they replace"
                    + (final.ramMB > 0 ? ", \(final.ramMB) MB RAM" : "")
                    + (addresses.isEmpty ? "" : ", temporary addresses: \(addresses)"))
        }
        return Outcome(surge: surge, lines: lines)
    }

    private func describe(
        _ groupPlan: InstanceGroupPlan, changed: [InstancePlan], replaced: [InstancePlan], strategy: VMStrategy
    ) -> String {
        var parts: [String] = []
        let new = changed.filter(\.isNew).count
        if new > 0 { parts.append("\(new) to create") }
        let vmless = changed.filter { !$0.isNew && $0.actual?.vm == nil }.count
        if vmless > 0 {
            parts.append(
                "\(vmless) VM\(vmless == 1 ? "" : "s") to create for \(vmless == 1 ? "an instance" : "instances") without one"
            )
        }
        if !groupPlan.obsolete.isEmpty { parts.append("\(groupPlan.obsolete.count) to delete") }
        let byHow = Dictionary(grouping: replaced) { instance -> String in
            switch SwapMode.choose(strategy: strategy, canMoveAddresses: canMoveAddresses, networks: instance.networks)
            {
            case .keepAddress?: "create-swap-delete, keeping their addresses"
            case .newAddress?: "create-swap-delete with new addresses (the CPI cannot move addresses)"
            case nil:
                strategy == .deleteCreate
                    ? "delete-create" : "create-swap-delete → delete-create (static IPs, the CPI cannot move addresses)"
            }
        }
        for (how, instances) in byHow.sorted(by: { $0.key < $1.key }) {
            let reasons = Set(instances.flatMap { $0.reasons.filter(\.replacesVM).map(\.description) }).sorted().joined(
                separator: ", ")
            parts.append("\(instances.count) VM\(instances.count == 1 ? "" : "s") to replace by \(how) (\(reasons))")
        }
        let inPlace = changed.count - new - vmless - replaced.count
        if inPlace > 0 { parts.append("\(inPlace) to update in place") }
        return "\(groupPlan.name): " + parts.joined(separator: "; ")
    }

    /// Room for replacement VMs: the CPI's VM slots and memory (what its VMs do not already
    /// take), and free addresses on each network the swaps need. Orphaned VMs count as room:
    /// a swap short of a slot deletes them first (`OrphanedVMs.makeRoom`).
    private func room(for peak: UpdateSurge.Peak) async throws -> UpdateSurge.Room {
        let capacity = prepared.cpiInfo.capacity
        var ramFree: Int?
        if let capacity {
            let descriptions = try await VMRecord.query(on: context.database).all().compactMap {
                try? JSONCoding.decoder.decode(VMDescription.self, from: Data($0.description.utf8))
            }
            ramFree = capacity.memoryMB - descriptions.reduce(0) { $0 + ($1.cloudProperties["ram"]?.intValue ?? 0) }
        }
        let taken = Set(
            try await IPAddressRecord.query(on: context.database).all().compactMap { IPv4Address($0.address) })
        var addresses: [String: Int] = [:]
        for (network, needed) in peak.addresses {
            guard let subnets = prepared.cloud.network(named: network)?.subnets else { continue }
            var allocator = IPAllocator(taken: taken)
            var free = 0
            while free < needed + 1, allocator.allocate(in: subnets) != nil { free += 1 }
            addresses[network] = free
        }
        let orphans = try await OrphanedVMRecord.query(on: context.database).count()
        return UpdateSurge.Room(
            vms: capacity.map { $0.maxVMs - $0.vms + orphans }, ramMB: ramFree, addresses: addresses)
    }
}
