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
            let recreated = try await DeadVMs.deleteDead(
                state.instances.filter { uuids.contains($0.uuid) }, state: state, deployment: name, context: context, environment: environment,
                reportAnswering: true)
            guard !recreated.isEmpty else { return "nothing to fix" }
            try await UpdateDeploymentJob.deploy(
                name: name, manifestText: deployment.manifest, recreate: .none, wake: [], context: context, environment: environment)
            return "recreated \(recreated.count) VM\(recreated.count == 1 ? "" : "s"): \(recreated.joined(separator: ", "))"
        }
    }
}
