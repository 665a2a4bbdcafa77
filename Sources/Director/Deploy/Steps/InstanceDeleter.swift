import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// Deletes one instance for good: scale-down, a dropped instance group, `delete-deployment`.
struct InstanceDeleter: Sendable {
    let context: TaskContext
    let steps: VMSteps
    let skipDrain: Bool

    var disks: DiskSteps { DiskSteps(context: context) }

    /// Stops the instance's jobs (an agent that does not answer is not waited for), detaches and
    /// orphans its disks, deletes its VM, releases its addresses and forgets it.
    func delete(_ instance: ActualInstance, state: DeploymentState) async throws {
        guard let record = state.instance(withUUID: instance.id), let id = record.id else { return }
        let vm = state.vms[id]
        if let vm, let cid = vm.cid {
            let agent = try? await steps.environment.agents.client(
                agentID: vm.agentID, instanceName: instance.displayName, requestTimeout: .seconds(10), ledger: context.ledger)
            if let agent {
                _ = try? await InstanceLifecycle(context: context).stop(agent, spec: nil, shuttingDown: true, skipDrain: skipDrain)
            }
            for disk in try await PersistentDiskRecord.query(on: context.database).filter(\.$instanceID == id).all() {
                guard let diskCID = disk.cid else { continue }
                _ = try? await agent?.send(.unmountDisk(diskCID: diskCID))
                do {
                    try await disks.detach(diskCID, from: cid)
                } catch {
                    // Still mounted by an agent that does not answer: deleting the VM releases it.
                    context.events.debug("Detaching \(diskCID) from \(cid) failed (\(error)); deleting the VM first")
                }
            }
        }
        for vm in try await VMRecord.query(on: context.database).filter(\.$instanceID == id).all() {
            try await steps.delete(vm)
        }
        // The data stays: the disks become orphaned disks (`disks --orphaned`, `attach-disk`).
        for disk in try await PersistentDiskRecord.query(on: context.database).filter(\.$instanceID == id).all() {
            try await OrphanedDisks.orphan(
                disk, instanceName: "\(record.group)/\(record.uuid)", deploymentName: state.deployment?.name ?? "", az: record.az,
                on: context.database)
        }
        try await IPAddressRecord.query(on: context.database).filter(\.$instanceID == id).delete()
        try await record.delete(on: context.database)
    }
}
