import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `scan_and_fix` (the resurrector's task, reference §8.3): for each named instance, the CPI is
/// asked whether the VM exists and, if it does, the agent once more (5 s); one that answers is
/// left alone, one that does not (or whose VM is gone) has its VM deleted
/// (a VM the IaaS lost counts as deleted) and its disk detached, and the deployed manifest is
/// deployed again: those instances get new VMs in their AZ, their addresses and persistent disks,
/// templates and credentials, and count as healed only once their jobs run and post-start
/// passed. They go up under the deployment's update policy without canaries: in parallel up to
/// `max_in_flight`, one AZ at a time, groups providing links before those consuming them
/// (`LinkOrder`). Every decision is an event with its reason.
/// Arguments: `{instances: [uuid]}`.
struct ScanAndFixJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment else { throw DeployError("No deployment given") }
        let uuids = Set((context.arguments["instances"]?.arrayValue ?? []).compactMap(\.stringValue))
        return try await context.withDeploymentLock(name) {
            let state = try await DeploymentState.load(name, on: context.database)
            guard let deployment = state.deployment, !deployment.manifest.isEmpty else {
                throw DeployError("Deployment '\(name)' doesn't exist or was never deployed")
            }
            let steps = VMSteps(context: context, environment: environment)
            var recreated: [String] = []
            for instance in state.instances where uuids.contains(instance.uuid) {
                let label = "\(instance.group)/\(instance.uuid)"
                guard let id = instance.id, let vm = state.vms[id] else { continue }
                let reason: String
                switch await steps.condition(of: vm, instanceName: label) {
                case .answering:
                    try await Self.decision(context, name, label, action: "skip resurrection", reason: "the agent answers again")
                    continue
                case .gone: reason = "the VM is gone from the IaaS"
                case .unresponsive: reason = "the agent does not answer"
                }
                try await context.events.step(stage: "Deleting dead VM", task: "\(label) (\(instance.index))", tags: [instance.group]) {
                    try await steps.deleteDetaching(vm, disk: state.disks[id])
                }
                try await Self.decision(context, name, label, action: "recreate", reason: reason)
                recreated.append(label)
            }
            guard !recreated.isEmpty else { return "nothing to fix" }
            try await UpdateDeploymentJob.deploy(
                name: name, manifestText: deployment.manifest, recreate: .none, wake: [], context: context, environment: environment)
            return "recreated \(recreated.count) VM\(recreated.count == 1 ? "" : "s"): \(recreated.joined(separator: ", "))"
        }
    }

    static func decision(_ context: TaskContext, _ deployment: String, _ instance: String, action: String, reason: String) async throws {
        context.events.debug("\(instance): \(action) (\(reason))")
        try await context.recorder.record(
            user: context.user, action: action, objectType: "instance", objectName: instance, task: context.taskID, deployment: deployment,
            instance: instance, context: ["reason": .string(reason)])
    }
}
