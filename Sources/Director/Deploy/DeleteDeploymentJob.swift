import BosunCore
import FluentKit
import Foundation

/// `delete_deployment`: stops and deletes every instance (VMs, disks, addresses), then the
/// deployment's variables and the deployment itself. With `force`, an instance whose VM or
/// disk cannot be deleted is forgotten anyway and the deletion goes on.
struct DeleteDeploymentJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment else {
            throw DeployError("No deployment given")
        }
        let force = context.arguments["force"] == .bool(true)
        return try await context.withDeploymentLock(name) {
            let state = try await DeploymentState.load(name, on: context.database)
            guard let deployment = state.deployment, let deploymentID = deployment.id else {
                return "/deployments/\(name)"
            }
            let steps = VMSteps(context: context, environment: environment)
            let deleter = InstanceDeleter(context: context, steps: steps, skipDrain: false)
            let instances = state.actualInstances
            try await ParallelRun.forEach(instances, limit: 5) { index, instance in
                try await context.events.step(
                    stage: "Deleting instances", task: instance.displayName, index: index + 1, total: instances.count
                ) {
                    do {
                        try await deleter.delete(instance, state: state)
                    } catch  where force {
                        context.events.debug("Forgetting \(instance.displayName) after: \(error)")
                        if let record = state.instance(withUUID: instance.id), let id = record.id {
                            try await VMRecord.query(on: context.database).filter(\.$instanceID == id).delete()
                            try await PersistentDiskRecord.query(on: context.database).filter(\.$instanceID == id)
                                .delete()
                            try await IPAddressRecord.query(on: context.database).filter(\.$instanceID == id).delete()
                            try await record.delete(on: context.database)
                        }
                    }
                }
            }
            // Compilation VMs a crashed deploy left behind.
            for vm in try await VMRecord.query(on: context.database).filter(\.$deploymentID == deploymentID).all() {
                try await steps.delete(vm)
            }
            // Addresses orphaned VMs hold stay reserved until the cleanup deletes those VMs.
            try await IPAddressRecord.query(on: context.database).filter(\.$deploymentID == deploymentID).filter(
                \.$orphanedVMID == nil
            ).delete()
            try await environment.configServer.deleteValues(of: name, on: context.database)
            try await SharedLinks.forget(name, on: context.database)
            try await ErrandRuns.forget(name, on: context.database)
            try await deployment.delete(on: context.database)
            try await RenderedArchives.sweep(name, context: context)
            try await DNSRecords.publishAndSync(context: context, environment: environment)
            return "/deployments/\(name)"
        }
    }
}
