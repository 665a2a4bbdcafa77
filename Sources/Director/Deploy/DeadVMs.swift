import FluentKit
import Foundation

/// VMs whose instance cannot be reached: the CPI no longer has them, or their agent does not
/// answer a ping within 5 s. The resurrector (`scan_and_fix`) and `deploy --fix` /
/// `recreate --fix` delete them — disk detached, address kept — so the deploy that follows gives
/// those instances new VMs instead of failing on them.
enum DeadVMs {
    /// Checks the VMs of `instances` (a few at once) and deletes the dead ones, recording each
    /// decision with its reason. Returns the `group/uuid` labels of the instances whose VM went.
    /// - Parameter reportAnswering: record a "skip resurrection" decision for VMs that answer.
    static func deleteDead(
        _ instances: [InstanceRecord], state: DeploymentState, deployment: String, context: TaskContext, environment: DeployEnvironment,
        reportAnswering: Bool
    ) async throws -> [String] {
        let steps = VMSteps(context: context, environment: environment)
        let candidates = instances.compactMap { instance in instance.id.flatMap { state.vms[$0] }.map { (instance, $0) } }
        let deleted = Collected<[String]>([])
        try await ParallelRun.forEach(candidates, limit: 10) { _, candidate in
            let (instance, vm) = candidate
            let label = "\(instance.group)/\(instance.uuid)"
            let reason: String
            switch await steps.condition(of: vm, instanceName: label) {
            case .answering:
                if reportAnswering { try await decision(context, deployment, label, action: "skip resurrection", reason: "the agent answers again") }
                return
            case .gone: reason = "the VM is gone from the IaaS"
            case .unresponsive: reason = "the agent does not answer"
            }
            try await context.events.step(stage: "Deleting dead VM", task: "\(label) (\(instance.index)): \(reason)", tags: [instance.group]) {
                try await steps.deleteDetaching(vm, disk: instance.id.flatMap { state.disks[$0] })
            }
            try await decision(context, deployment, label, action: "recreate", reason: reason)
            deleted.update { $0.append(label) }
        }
        return deleted.value.sorted()
    }

    static func decision(_ context: TaskContext, _ deployment: String, _ instance: String, action: String, reason: String) async throws {
        context.events.debug("\(instance): \(action) (\(reason))")
        try await context.recorder.record(
            user: context.user, action: action, objectType: "instance", objectName: instance, task: context.taskID, deployment: deployment,
            instance: instance, context: ["reason": .string(reason)])
    }
}
