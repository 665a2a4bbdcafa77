import AgentProtocol
import BosunCore
import CPI
import FluentKit
import Foundation

/// What a director killed in the middle of a create-swap-delete left, put right before the next
/// deploy of the deployment plans anything (under its lock):
/// - a replacement VM that never reached the swap window (inactive, no `swap_state`) is deleted
///   with its temporary addresses — the old VM still holds the instance;
/// - one caught while its address moved (`swap_state: moving`) is swapped in: the move is
///   repeated (the CPI's is repeatable), it becomes the active VM, the old one is orphaned, the
///   persistent disk is attached to it, and the instance is marked for a full apply and start.
struct UnfinishedSwaps: Sendable {
    let context: TaskContext
    let steps: VMSteps
    let deploymentName: String

    func resolve(deploymentID: Int) async throws {
        let database = context.database
        let inactive = try await VMRecord.query(on: database).filter(\.$deploymentID == deploymentID).filter(\.$active == false).all()
        for vm in inactive {
            guard let instanceID = vm.instanceID, let instance = try await InstanceRecord.find(instanceID, on: database) else {
                continue  // compilation VMs are the compile stage's own business
            }
            let name = "\(instance.group)/\(instance.uuid)"
            guard vm.swapState == "moving", let newCID = vm.cid,
                let old = try await VMRecord.active(of: instanceID, on: database),
                let oldCID = old.cid, let networks = instance.appliedSpec?.networks
            else {
                context.events.debug("Deleting VM \(vm.cid ?? "(never created)") of \(name), left by a swap that did not reach its window")
                try await steps.delete(vm)
                try await restore(instance, instanceID: instanceID)
                continue
            }
            try await context.events.step(stage: "Finishing interrupted swaps", task: name) {
                _ = try await context.cpi.moveAddress(from: oldCID, to: newCID, networks: try JSONValue(encoding: networks))
                try await database.transaction { database in
                    if let id = vm.id { try await IPAddressRecord.query(on: database).filter(\.$vmID == id).delete() }
                    vm.active = true
                    vm.swapState = nil
                    try await vm.save(on: database)
                    try await OrphanedVMs.orphan(old, instanceName: name, deploymentName: deploymentName, az: instance.az, on: database)
                    // Nothing runs on the new VM yet: the next update applies and starts it.
                    instance.configurationHash = nil
                    try await instance.save(on: database)
                }
                try? steps.environment.natsServer?.revoke(agentIDs: [old.agentID])
                await VMSwap.forgetNeighbours(
                    of: networks.values.compactMap(\.ip), steps: steps, except: [vm.agentID])
                let agent = try await steps.waitForAgent(agentID: vm.agentID, instanceName: name)
                if let disk = try await PersistentDiskRecord.active(of: instanceID, on: database),
                    let diskCID = disk.cid
                {
                    try? await DiskSteps(context: context).detach(diskCID, from: oldCID)
                    let hint = try await context.cpi.attachDisk(vmCID: newCID, diskCID: diskCID)
                    _ = try await agent.send(.addPersistentDisk(diskCID: diskCID, hint: hint))
                }
            }
        }
    }

    /// The old VM may have stopped its jobs and let go of the disk before the director died:
    /// the disk goes back to it, and the instance is marked for a full apply and start.
    private func restore(_ instance: InstanceRecord, instanceID: Int) async throws {
        let database = context.database
        guard let old = try await VMRecord.active(of: instanceID, on: database),
            let oldCID = old.cid
        else { return }
        instance.configurationHash = nil
        try await instance.save(on: database)
        // A new-address swap left the old addresses with the old VM: they are the instance's again.
        if let oldID = old.id {
            let kept = try await IPAddressRecord.query(on: database).filter(\.$vmID == oldID).all()
            if !kept.isEmpty {
                try await database.transaction { database in
                    try await IPAddressRecord.query(on: database).filter(\.$instanceID == instanceID).delete()
                    for address in kept {
                        address.vmID = nil
                        address.instanceID = instanceID
                        try await address.save(on: database)
                    }
                }
            }
        }
        guard let disk = try await PersistentDiskRecord.active(of: instanceID, on: database),
            let diskCID = disk.cid, !(try await context.cpi.getDisks(vmCID: oldCID)).contains(diskCID)
        else { return }
        let agent = try await steps.waitForAgent(agentID: old.agentID, instanceName: "\(instance.group)/\(instance.uuid)")
        let hint = try await context.cpi.attachDisk(vmCID: oldCID, diskCID: diskCID)
        _ = try await agent.send(.addPersistentDisk(diskCID: diskCID, hint: hint))
    }
}
