import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `run_errand` (`POST /deployments/<d>/errands/<name>/runs`): runs the errand job's `bin/run` on
/// every instance that has the job (errands colocated on service instances, as BOSH allows), a
/// few at a time, and writes one JSON line per instance to the task's result: `{errand_name,
/// instance: {group, id}, exit_code, stdout, stderr}`. A non-zero exit code is the errand's
/// answer, not a task failure; the CLI reports it.
struct RunErrandJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let deployment = context.deployment,
            let errand = context.arguments["name"]?.stringValue, !errand.isEmpty
        else { throw DeployError("No deployment or errand given") }
        return try await context.withDeploymentLock(deployment) {
            let state = try await DeploymentState.load(deployment, on: context.database)
            let targets: [(InstanceRecord, VMRecord)] = state.instances.compactMap { instance in
                guard let id = instance.id, let vm = state.vms[id],
                    let spec = instance.spec.flatMap({ try? JSONCoding.decoder.decode(ApplySpec.self, from: Data($0.utf8)) }),
                    spec.job.templates.contains(where: { $0.name == errand })
                else { return nil }
                return (instance, vm)
            }
            guard !targets.isEmpty else {
                let manifest = state.deployment.flatMap { try? YAMLValue.parse($0.manifest, source: "manifest") }
                let isGroup = (manifest?["instance_groups"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == errand }
                throw DeployError(
                    isGroup
                        ? "Errand '\(errand)' is an instance group of its own (lifecycle: errand), which Bosun cannot run yet; colocate the job on a service instance group"
                        : "Errand '\(errand)' doesn't exist: no instance of deployment '\(deployment)' has that job")
            }
            try await ParallelRun.forEach(targets, limit: 5) { position, target in
                let (instance, vm) = target
                let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
                let agent = try await environment.agents.client(agentID: vm.agentID, instanceName: label, ledger: context.ledger)
                let reply = try await context.events.step(
                    stage: "Running errand", task: label, tags: [errand], index: position + 1, total: targets.count
                ) {
                    try await agent.send(.runErrand(name: errand))
                }
                let line: JSONValue = [
                    "errand_name": .string(errand), "instance": ["group": .string(instance.group), "id": .string(instance.uuid)],
                    "exit_code": reply["exit_code"] ?? .int(-1), "stdout": reply["stdout"] ?? "", "stderr": reply["stderr"] ?? "",
                ]
                try context.output.append(.result, String(decoding: try JSONCoding.encoder.encode(line), as: UTF8.self) + "\n")
            }
            return "\(targets.count) errand run\(targets.count == 1 ? "" : "s")"
        }
    }
}
