import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `restore_templates`: a VM whose job directory is a tmpfs came back from a reboot (CPI
/// `reboot_vm`, a crash) with its rendered templates gone, and its agent said so in a heartbeat.
/// BOSH makes such VMs unrecoverable ("must be recreated"); Bosun delivers the templates last
/// applied again — the sealed archive over NATS, or the blobstore's — and starts the jobs, on
/// the same VM with the same disk. Arguments: `{agent_id}`.
struct RestoreTemplatesJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment, let agentID = context.arguments["agent_id"]?.stringValue else {
            throw DeployError("The restore task has no deployment or agent")
        }
        return try await context.withDeploymentLock(name) {
            guard let vm = try await VMRecord.query(on: context.database).filter(\.$agentID == agentID).filter(\.$active == true).first(),
                let instanceID = vm.instanceID, let instance = try await InstanceRecord.find(instanceID, on: context.database),
                let specText = instance.spec, let spec = try? JSONCoding.decoder.decode(ApplySpec.self, from: Data(specText.utf8))
            else { return "agent \(agentID) belongs to no deployed instance: nothing to restore" }
            let displayName = "\(instance.group)/\(instance.uuid) (\(instance.index))"
            let agent = try await environment.agents.client(agentID: agentID, instanceName: displayName, ledger: context.ledger)
            let state = try await agent.send(.getState(full: false))
            guard state["job_state"] == "templates_missing" else { return "\(displayName) has its templates: nothing to restore" }

            let deployment = try await DeploymentRecord.find(instance.deploymentID, on: context.database)
            let policy = ChangeStateJob.policies(deployment?.manifest ?? "").first { $0.group == instance.group }?.policy
            try await context.events.step(stage: "Restoring templates after a reboot", task: displayName, tags: [instance.group]) {
                try await Self.restore(instance, spec: spec, agent: agent, watch: policy?.updateWatchTime, context: context, environment: environment)
            }
            try await context.recorder.record(
                user: context.user, action: "restore templates", objectType: "instance", objectName: "\(instance.group)/\(instance.uuid)",
                task: context.taskID, deployment: name, instance: "\(instance.group)/\(instance.uuid)",
                context: ["vm_cid": vm.cid.map(JSONValue.string) ?? .null, "reason": "templates missing after a reboot"])
            return "restored the templates of \(displayName)"
        }
    }

    static func restore(
        _ instance: InstanceRecord, spec: ApplySpec, agent: AgentClient, watch: WatchTime?, context: TaskContext, environment: DeployEnvironment
    ) async throws {
        try await redeliver(instance, spec: spec, agent: agent, context: context, environment: environment)
        if instance.state == "stopped" {
            _ = try await agent.send(.apply(spec))
            return
        }
        try await InstanceLifecycle(context: context).start(
            agent, spec: spec, watch: watch ?? WatchTime(minimumMilliseconds: 1000, maximumMilliseconds: 30_000), instanceName: "\(instance.group)/\(instance.uuid)")
    }

    /// Puts back what the reboot took: the persistent disk mounted (the agent does so at boot;
    /// this covers older agents) and, over NATS, the sealed archive uploaded under the blob id
    /// the spec names. The caller applies the spec.
    static func redeliver(
        _ instance: InstanceRecord, spec: ApplySpec, agent: AgentClient, context: TaskContext, environment: DeployEnvironment
    ) async throws {
        if let id = instance.id,
            let disk = try await PersistentDiskRecord.active(of: id, on: context.database),
            let cid = disk.cid
        {
            _ = try await agent.send(.mountDisk(diskCID: cid))
        }
        try await TemplateDelivery.resealed(instance.sealedTemplates, archive: spec.renderedTemplatesArchive, server: environment.configServer)?
            .send(to: agent)
    }
}
