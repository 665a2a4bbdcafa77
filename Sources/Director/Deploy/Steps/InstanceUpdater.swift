import AgentProtocol
import BosunCore
import CPI
import FluentKit
import Foundation

/// Brings one instance to its plan with `vm_strategy: delete-create` (reference §1.6): stop the
/// jobs and delete the VM when it must be replaced, create the VM, attach and mount the persistent
/// disk (creating it, or migrating to a new size), apply the rendered jobs and start them.
/// Every change is recorded as soon as it happened, so a failure leaves the database true.
struct InstanceUpdater: Sendable {
    let context: TaskContext
    let steps: VMSteps
    let render: RenderStage
    let deploymentID: Int
    let deploymentName: String
    /// For temporary addresses of replacement VMs.
    let cloud: CloudConfig
    let skipDrain: SkipDrain
    /// The CPI implements `move_address`, so create-swap-delete keeps instances' addresses
    /// (else it gives them new ones, as BOSH does).
    let canMoveAddresses: Bool
    /// The deploy's variable set, recorded on each instance it renders for.
    var variableSetID: Int? = nil

    var lifecycle: InstanceLifecycle { InstanceLifecycle(context: context) }
    var disks: DiskSteps { DiskSteps(context: context) }

    /// How long an existing VM's agent may take to answer before its update fails.
    static let existingAgentTimeout: Duration = .seconds(60)

    /// What the updater needs to know about one instance.
    struct Work: Sendable {
        var plan: InstancePlan
        var record: InstanceRecord
        var vm: VMRecord?
        var disk: PersistentDiskRecord?
        var rendered: RenderStage.Rendered
        var stemcellCID: String
        var watch: WatchTime
        /// The group's `vm_strategy`; what happens also depends on the CPI (see `SwapPlan`).
        var strategy: VMStrategy = .deleteCreate
    }

    /// Brings the instance to its plan. Returns how long its jobs were down (old jobs told to
    /// stop → new jobs first seen running), nil when no running jobs were stopped.
    @discardableResult
    func update(_ work: Work) async throws -> Duration? {
        var vm = work.vm
        let name = work.plan.displayName
        let previousSpec = work.record.appliedSpec
        var agent: AgentClient? = nil
        if let current = vm {
            // The agent may be reconnecting (a director restart): a request sent now would be lost.
            agent = try await steps.waitForAgent(
                agentID: current.agentID, instanceName: name, timeout: Self.existingAgentTimeout)
        }
        let configurationChanged = work.record.configurationHash != work.rendered.configurationHash
        // A disk that grows or changes type is copied with the jobs stopped, then they start again.
        let diskChanged = work.plan.reasons.contains(where: \.replacesDisk)
        let replace = vm == nil || work.plan.needsRecreate
        var spec = work.rendered.spec
        spec.configurationHash = work.rendered.configurationHash
        var stoppedAt: ContinuousClock.Instant?
        var timer = StepTimer()
        var diskAlreadyAttached = !replace
        var delivery: TemplateDelivery?
        /// The replacement VM of a swap has the templates already (`prepare`).
        var templatesOnAgent = false

        if let current = vm, replace, let mode = swapMode(work) {
            let swapDelivery = try await deliver(
                work, previous: previousSpec, configurationChanged: configurationChanged)
            delivery = swapDelivery
            spec.renderedTemplatesArchive = swapDelivery.archive
            let swap = VMSwap(updater: self, mode: mode)
            let replacement = try await swap.createReplacement(work, spec: spec, delivery: swapDelivery)
            templatesOnAgent = true
            do {
                timer = StepTimer()
                if let running = agent, work.record.state != "stopped" {
                    stoppedAt = try await lifecycle.stop(
                        running, spec: previousSpec, shuttingDown: true, skipDrain: skipDrain.covers(work.plan.group),
                        timer: &timer)
                }
                // The disk goes from the old VM to the new one (CPI calls only) while the address
                // moves; the new agent learns of it once it is back on the bus.
                var moveDisk: (@Sendable () async throws -> JSONValue)? = nil
                if let disk = work.disk, let cid = disk.cid, let oldCID = current.cid, let newCID = replacement.vm.cid {
                    _ = try? await agent?.send(.unmountDisk(diskCID: cid))
                    timer.lap("unmount")
                    let cpi = context.cpi
                    moveDisk = {
                        try await self.detach(cid, from: oldCID)
                        return try await cpi.attachDisk(vmCID: newCID, diskCID: cid)
                    }
                }
                let (newAgent, hint) = try await swap.swap(
                    old: current, oldAgent: agent, to: replacement, work: work, moveDisk: moveDisk, timer: &timer)
                agent = newAgent
                if let hint, let cid = work.disk?.cid {
                    _ = try await newAgent.send(.addPersistentDisk(diskCID: cid, hint: hint))
                }
                diskAlreadyAttached = true
            } catch {
                // Before the address moved the old VM still holds the instance; after, the next
                // deploy finishes the swap (`UnfinishedSwaps`).
                if replacement.vm.swapState == nil { try? await steps.delete(replacement.vm) }
                throw error
            }
            vm = replacement.vm
        } else if let current = vm, let running = agent, replace || configurationChanged || diskChanged {
            // Stop what runs when the VM goes or its jobs change.
            if work.record.state != "stopped" {
                stoppedAt = try await lifecycle.stop(
                    running, spec: previousSpec, shuttingDown: replace, skipDrain: skipDrain.covers(work.plan.group),
                    timer: &timer)
            }
            if replace {
                if let disk = work.disk, let cid = disk.cid {
                    _ = try? await running.send(.unmountDisk(diskCID: cid))
                    if let vmCID = current.cid { try await detach(cid, from: vmCID) }
                }
                try await steps.delete(current)
                timer.lap("old VM deleted")
                vm = nil
                agent = nil
            }
        }

        if vm == nil {
            let created = try await steps.create(
                deploymentID: deploymentID, instanceID: work.record.id, instanceName: name,
                stemcellCID: work.stemcellCID,
                description: work.plan.vm, networks: work.plan.networks)
            created.record.active = true
            try await created.record.save(on: context.database)
            timer.lap("VM created")
            vm = created.record
            agent = created.agent
        }
        guard let vm, let agent, let vmCID = vm.cid else { throw DeployError("'\(name)' has no VM after creating one") }

        try await ensureDisk(work, vm: vmCID, agent: agent, attached: diskAlreadyAttached)
        timer.lap("disk")

        if !replace && !configurationChanged && !diskChanged, let archive = previousSpec?.renderedTemplatesArchive {
            spec.renderedTemplatesArchive = archive
            try await record(work, spec: spec, sealedTemplates: work.record.sealedTemplates)
            return nil
        }
        if delivery == nil {
            let fresh = try await deliver(work, previous: previousSpec, configurationChanged: configurationChanged)
            delivery = fresh
            spec.renderedTemplatesArchive = fresh.archive
        }
        if !templatesOnAgent {
            try await delivery?.send(to: agent)
            timer.lap("templates")
        }
        var runningAt: ContinuousClock.Instant?
        if work.record.state == "stopped" {
            // `bosun stop` left it stopped: the new configuration is applied, the jobs stay down.
            _ = try await agent.send(.apply(spec))
        } else {
            runningAt = try await lifecycle.start(
                agent, spec: spec, watch: work.watch, instanceName: name, timer: &timer)
        }
        try await record(work, spec: spec, sealedTemplates: delivery?.sealed)
        guard let stoppedAt, let runningAt else { return nil }
        context.events.debug(
            "\(name) stop to running \(Double((runningAt - stoppedAt).milliseconds) / 1000) s; steps: \(timer.summary)")
        return runningAt - stoppedAt
    }

    /// How this instance's VM is replaced by create-swap-delete; nil for delete-create.
    func swapMode(_ work: Work) -> SwapMode? {
        SwapMode.choose(strategy: work.strategy, canMoveAddresses: canMoveAddresses, networks: work.plan.networks)
    }

    private func deliver(
        _ work: Work, previous: ApplySpec?, configurationChanged: Bool
    ) async throws -> TemplateDelivery {
        try await TemplateDelivery.make(
            for: work.rendered, previous: previous, configurationChanged: configurationChanged, render: render)
    }

    private func record(_ work: Work, spec: ApplySpec, sealedTemplates: String?) async throws {
        work.record.configurationHash = work.rendered.configurationHash
        work.record.spec = try JSONCoding.string(spec)
        work.record.sealedTemplates = sealedTemplates
        if let variableSetID { work.record.variableSetID = variableSetID }
        work.record.bootstrap = work.plan.bootstrap
        try await work.record.save(on: context.database)
    }

    /// The plan's persistent disk on this VM: created on first need, attached and mounted; a new
    /// size or kind (or `--recreate-persistent-disks`) means a new disk that the agent migrates
    /// the data to, and the old one is orphaned.
    private func ensureDisk(_ work: Work, vm: String, agent: AgentClient, attached: Bool) async throws {
        guard let wanted = work.plan.persistentDisk, let instanceID = work.record.id else {
            if let old = work.disk, let cid = old.cid {
                _ = try? await agent.send(.unmountDisk(diskCID: cid))
                if attached { try await detach(cid, from: vm) }
                try await orphan(old, of: work)
            }
            return
        }
        let wantedProperties = try JSONCoding.string(wanted.cloudProperties)
        if let current = work.disk, let cid = current.cid {
            if !attached { try await attach(cid, to: vm, agent: agent) }
            let recreateRequested = work.plan.reasons.contains(.persistentDiskRecreateRequested)
            if current.sizeMB == wanted.sizeMB && current.cloudProperties == wantedProperties && !recreateRequested {
                _ = try await agent.send(.mountDisk(diskCID: cid))
                return
            }
            _ = try await agent.send(.mountDisk(diskCID: cid))
            let replacement = try await createDisk(
                wanted, properties: wantedProperties, instanceID: instanceID, vm: vm, agent: agent, active: false)
            // With the store mounted, the agent mounts the new disk as the migration target.
            _ = try await agent.send(.mountDisk(diskCID: replacement.cid ?? ""))
            _ = try await agent.send(.migrateDisk(oldCID: cid, newCID: replacement.cid ?? ""))
            _ = try? await agent.send(.unmountDisk(diskCID: cid))
            try await detach(cid, from: vm)
            current.active = false
            try await current.save(on: context.database)
            replacement.active = true
            try await replacement.save(on: context.database)
            try await orphan(current, of: work)
            return
        }
        let disk = try await createDisk(
            wanted, properties: wantedProperties, instanceID: instanceID, vm: vm, agent: agent, active: true)
        _ = try await agent.send(.mountDisk(diskCID: disk.cid ?? ""))
    }

    private func createDisk(
        _ wanted: DiskRequirement, properties: String, instanceID: Int, vm: String, agent: AgentClient, active: Bool
    ) async throws -> PersistentDiskRecord {
        let record = PersistentDiskRecord()
        record.instanceID = instanceID
        record.sizeMB = wanted.sizeMB
        record.cloudProperties = properties
        record.active = active
        try await record.save(on: context.database)
        let cid = try await context.cpi.createDisk(
            sizeMB: wanted.sizeMB, cloudProperties: wanted.cloudProperties, vmCID: vm)
        record.cid = cid
        try await record.save(on: context.database)
        try await attach(cid, to: vm, agent: agent)
        return record
    }

    private func attach(_ disk: String, to vm: String, agent: AgentClient) async throws {
        let hint = try await context.cpi.attachDisk(vmCID: vm, diskCID: disk)
        _ = try await agent.send(.addPersistentDisk(diskCID: disk, hint: hint))
    }

    func detach(_ disk: String, from vm: String) async throws { try await disks.detach(disk, from: vm) }

    /// A disk the instance no longer uses keeps its data as an orphaned disk.
    func orphan(_ disk: PersistentDiskRecord, of work: Work) async throws {
        try await OrphanedDisks.orphan(
            disk, instanceName: "\(work.plan.group)/\(work.plan.id)", deploymentName: deploymentName, az: work.plan.az,
            on: context.database)
    }
}
