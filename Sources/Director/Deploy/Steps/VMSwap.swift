import AgentProtocol
import BosunCore
import CPI
import FluentKit
import Foundation

/// How an instance's VM is replaced under `vm_strategy: create-swap-delete`.
enum SwapMode: Sendable, Equatable {
    /// The CPI moves the instance's addresses to the replacement (Bosun's way).
    case keepAddress
    /// BOSH's way, on CPIs that cannot move addresses: the replacement gets new addresses
    /// (planned, so templates and links see them); the old ones stay with the orphaned VM.
    case newAddress

    /// Nil means delete-create: asked for, or the fallback for static IPs on a CPI that cannot
    /// move addresses (a static address cannot be on two VMs).
    static func choose(strategy: VMStrategy, canMoveAddresses: Bool, networks: [PlannedNetwork]) -> SwapMode? {
        guard strategy == .createSwapDelete else { return nil }
        if canMoveAddresses { return .keepAddress }
        return networks.contains(where: \.isStatic) ? nil : .newAddress
    }
}

/// `vm_strategy: create-swap-delete` for one instance whose VM must be replaced, keeping the
/// instance's address (reference §1.7, done better): the replacement VM boots on a temporary
/// address and gets its packages and jobs while the old VM still serves; then the old VM's jobs
/// stop, the disk leaves it, the CPI moves the instance's address to the new VM, the new VM
/// becomes the active one and the old one is orphaned (deleted later by the cleanup).
///
/// Every step is in the database as it happens: the replacement is an inactive VM row of the
/// instance (with its temporary addresses) until the swap, so a director that dies before the
/// swap leaves a VM the next deploy deletes (`UnfinishedSwaps`), and one that dies after it
/// leaves an orphan the cleanup deletes.
struct VMSwap: Sendable {
    let updater: InstanceUpdater
    let mode: SwapMode

    var context: TaskContext { updater.context }
    var steps: VMSteps { updater.steps }

    /// The replacement, ready to take over.
    struct Replacement: Sendable {
        var vm: VMRecord
        var agent: AgentClient
    }

    /// Creates the replacement VM on temporary addresses and has it fetch everything `spec` needs.
    func createReplacement(_ work: InstanceUpdater.Work, spec: ApplySpec, delivery: TemplateDelivery) async throws -> Replacement {
        let name = work.plan.displayName
        var networks: [PlannedNetwork] = []
        var reservations: [IPAddressRecord] = []
        do {
            for network in work.plan.networks {
                // New-address swaps boot on the addresses planned for the instance.
                guard mode == .keepAddress, network.kind == .manual, network.ip != nil else {
                    networks.append(network)
                    continue
                }
                let (temporary, record) = try await AddressBook.reserveForVM(
                    network: network.name, az: work.plan.az, cloud: updater.cloud, deploymentID: updater.deploymentID, on: context.database)
                var planned = temporary
                planned.defaults = network.defaults
                networks.append(planned)
                if let record { reservations.append(record) }
            }
            try await OrphanedVMs.makeRoom(context: context)
            let created = try await steps.create(
                deploymentID: updater.deploymentID, instanceID: work.record.id, instanceName: name, stemcellCID: work.stemcellCID,
                description: work.plan.vm, networks: networks, addresses: reservations)
            context.events.debug(
                "Replacement VM \(created.record.cid ?? "?") for \(name) is up on \(networks.compactMap { $0.ip?.description }.joined(separator: ", ")); preparing it")
            try await delivery.send(to: created.agent)
            _ = try await created.agent.send(.prepare(spec))
            return Replacement(vm: created.record, agent: created.agent)
        } catch {
            for record in reservations { try? await record.delete(on: context.database) }
            throw error
        }
    }

    /// The swap window: the old VM's jobs are already stopped and its disk unmounted. Moves the
    /// disk over (`moveDisk`: detach, attach, returning the hint) while the CPI moves the
    /// instance's addresses to the replacement — the two do not depend on each other —, makes
    /// the replacement the active VM and orphans the old one. Returns the replacement's agent,
    /// reconnected from its final address, and the disk's hint.
    func swap(
        old: VMRecord, oldAgent: AgentClient?, to replacement: Replacement, work: InstanceUpdater.Work,
        moveDisk: (@Sendable () async throws -> JSONValue)?, timer: inout StepTimer
    ) async throws -> (AgentClient, JSONValue?) {
        guard let oldCID = old.cid, let newCID = replacement.vm.cid, let newID = replacement.vm.id else {
            throw DeployError("'\(work.plan.displayName)' has no VM CID to swap")
        }
        // The old agent powers its VM off; it does not answer once its address is gone.
        if let oldAgent {
            var quick = oldAgent
            quick.requestTimeout = .seconds(5)
            _ = try? await quick.send(.shutdown)
            timer.lap("old agent shutdown")
        }
        if mode == .keepAddress {
            replacement.vm.swapState = "moving"
            try await replacement.vm.save(on: context.database)
        }
        let cpi = context.cpi
        let networks = VMSteps.cpiNetworks(work.plan.networks)
        let moves = mode == .keepAddress
        async let moved: JSONValue? = moveDisk?()
        if moves { _ = try await cpi.moveAddress(from: oldCID, to: newCID, networks: networks) }
        let hint = try await moved
        timer.lap(moves ? "disk and address move" : "disk move")
        try await context.database.transaction { database in
            try await IPAddressRecord.query(on: database).filter(\.$vmID == newID).delete()
            replacement.vm.active = true
            replacement.vm.swapState = nil
            try await replacement.vm.save(on: database)
            try await OrphanedVMs.orphan(old, instanceName: work.plan.displayName, deploymentName: updater.deploymentName, on: database)
        }
        try? steps.environment.natsServer?.revoke(agentIDs: [old.agentID])
        if moves { await Self.forgetNeighbours(of: work.plan.networks.compactMap { $0.ip?.description }, steps: steps, except: [replacement.vm.agentID]) }
        context.events.debug(
            mode == .keepAddress
                ? "Moved \(work.plan.displayName)'s address from \(oldCID) to \(newCID); \(oldCID) is orphaned"
                : "\(newCID) took over \(work.plan.displayName) on its new address; \(oldCID) is orphaned with the old one")
        timer.lap("records")
        // Cut from its temporary address, the agent reconnects from the final one.
        let agent = try await steps.waitForAgent(agentID: replacement.vm.agentID, instanceName: work.plan.displayName)
        timer.lap("agent reconnect")
        return (agent, hint)
    }

    /// Tells every other agent to forget its neighbour entries for addresses that moved (BOSH's
    /// `delete_arp_entries`, fire-and-forget), so VMs that talked to the instance reach the new
    /// VM at once instead of after their entries age out.
    static func forgetNeighbours(of addresses: [String], steps: VMSteps, except: Set<String>) async {
        guard !addresses.isEmpty else { return }
        let agents = ((try? await VMRecord.query(on: steps.context.database).filter(\.$active == true).all()) ?? [])
            .map(\.agentID).filter { !except.contains($0) }
        for agentID in agents {
            guard let agent = try? await steps.environment.agents.client(agentID: agentID, instanceName: agentID) else { continue }
            _ = try? await agent.send(.deleteARPEntries(ips: addresses))
        }
        steps.context.events.debug("Asked \(agents.count) agent(s) to forget neighbours \(addresses.joined(separator: ", "))")
    }
}
