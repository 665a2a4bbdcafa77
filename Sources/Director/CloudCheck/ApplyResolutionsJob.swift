import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `cck_apply_resolutions` (`PUT /deployments/<d>/problems` with `{resolutions: {id: name}}`;
/// `skip_watch` when every recreation is `recreate_vm_without_wait`):
/// each open problem gets its resolution. VMs to recreate are deleted (disk detached) and then
/// come back together through a deploy of the deployed manifest, as the resurrector does; a
/// disk is reattached by detaching it (if the IaaS still has it attached), attaching it again,
/// and having the agent mount it.
struct ApplyResolutionsJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment else { throw DeployError("No deployment given") }
        guard case .object(let chosen)? = context.arguments["resolutions"] else { throw DeployError("No resolutions given") }
        return try await context.withDeploymentLock(name) {
            let state = try await DeploymentState.load(name, on: context.database)
            guard let deployment = state.deployment, let deploymentID = deployment.id else { throw DeployError("Deployment '\(name)' doesn't exist") }
            let steps = VMSteps(context: context, environment: environment)
            var recreate = false
            var applied = 0
            for (idText, resolution) in chosen.sorted(by: { $0.key < $1.key }) {
                guard let id = Int(idText), let resolution = resolution.stringValue,
                    let problem = try await DeploymentProblemRecord.find(id, on: context.database), problem.deploymentID == deploymentID,
                    problem.state == "open"
                else { continue }
                guard CloudCheck.resolutions[problem.type]?.contains(resolution) == true else {
                    throw DeployError("Problem \(id) (\(problem.type)) cannot be resolved by '\(resolution)'")
                }
                if problem.type == "unknown_vm", let cid = problem.vmCID {
                    try await context.events.step(stage: "Applying problem resolutions", task: "unknown_vm \(cid): \(CloudCheck.plans[resolution] ?? resolution)") {
                        if resolution == "delete_vm" { try await context.deleteVMIfPresent(cid) }
                    }
                    problem.state = resolution == "ignore" ? "ignored" : "resolved"
                    try await problem.save(on: context.database)
                    applied += 1
                    continue
                }
                guard let instance = state.instance(withUUID: problem.instanceUUID), let instanceID = instance.id else { continue }
                let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
                let vm = state.vms[instanceID]
                try await context.events.step(stage: "Applying problem resolutions", task: "\(problem.type) \(label): \(CloudCheck.plans[resolution] ?? resolution)") {
                    switch resolution {
                    case "recreate_vm", "recreate_vm_without_wait", "delete_vm":
                        if let vm { try await steps.deleteDetaching(vm, disk: state.disks[instanceID]) }
                        recreate = recreate || resolution != "delete_vm"
                    case "delete_vm_reference":
                        if let vm {
                            try? environment.natsServer?.revoke(agentIDs: [vm.agentID])
                            try await IPAddressRecord.query(on: context.database).filter(\.$vmID == vm.id!).delete()
                            try await vm.delete(on: context.database)
                        }
                    case "reboot_vm":
                        if let cid = vm?.cid { try await context.cpi.rebootVM(cid) }
                    case "reattach_disk":
                        guard let vm, let vmCID = vm.cid, let diskCID = problem.diskCID else { break }
                        if (try? await context.cpi.getDisks(vmCID: vmCID))?.contains(diskCID) == true {
                            try await context.cpi.detachDisk(vmCID: vmCID, diskCID: diskCID)
                        }
                        let hint = try await context.cpi.attachDisk(vmCID: vmCID, diskCID: diskCID)
                        let agent = try await steps.waitForAgent(agentID: vm.agentID, instanceName: label, timeout: .seconds(30))
                        _ = try await agent.send(.addPersistentDisk(diskCID: diskCID, hint: hint))
                        _ = try await agent.send(.mountDisk(diskCID: diskCID))
                    case "delete_disk_reference":
                        if let disk = state.disks[instanceID] { try await disk.delete(on: context.database) }
                    default:
                        break
                    }
                }
                problem.state = resolution == "ignore" ? "ignored" : "resolved"
                try await problem.save(on: context.database)
                try await context.recorder.record(
                    user: context.user, action: "resolve problem", objectType: "instance", objectName: "\(instance.group)/\(instance.uuid)",
                    task: context.taskID, deployment: name, instance: "\(instance.group)/\(instance.uuid)",
                    context: ["type": .string(problem.type), "resolution": .string(resolution)])
                applied += 1
            }
            if recreate {
                try await UpdateDeploymentJob.deploy(
                    name: name, manifestText: deployment.manifest, recreate: .none, wake: [], context: context, environment: environment)
            }
            return "\(applied) resolved"
        }
    }
}
