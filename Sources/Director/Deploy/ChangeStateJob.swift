import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `bosun start|stop [--hard]|restart|recreate` (`PUT /deployments/<d>/jobs/<target>?state=…`):
/// `target` is `*`, a group, or `group/<index or id>`. Stopping and starting talk to the agents
/// only; `stop --hard` also deletes the VM (disk and address kept, state `detached`); `recreate`
/// and starting a detached instance run the deploy with the deployed manifest for just those
/// instances.
struct ChangeStateJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment else { throw DeployError("No deployment given") }
        let target = context.arguments["target"]?.stringValue ?? "*"
        let wanted = context.arguments["state"]?.stringValue ?? ""
        let skipDrain = context.arguments["skip_drain"] == .bool(true)
        guard ["started", "stopped", "detached", "restart", "recreate"].contains(wanted) else {
            throw DeployError("Unknown state '\(wanted)': expected started, stopped, detached, restart or recreate")
        }
        return try await context.withDeploymentLock(name) {
            let state = try await DeploymentState.load(name, on: context.database)
            guard let deployment = state.deployment, !deployment.manifest.isEmpty else {
                throw DeployError("Deployment '\(name)' doesn't exist or was never deployed")
            }
            let chosen = state.instances.filter { Self.matches(target, $0) }
            guard !chosen.isEmpty else { throw DeployError("No instance of deployment '\(name)' matches '\(target)'") }
            let steps = VMSteps(context: context, environment: environment)
            let lifecycle = InstanceLifecycle(context: context)
            var wake: Set<String> = []
            var recreate: Set<String> = []
            for (position, instance) in chosen.enumerated() {
                let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
                let vm = instance.id.flatMap { state.vms[$0] }
                let spec = instance.appliedSpec
                switch (wanted, vm) {
                case ("recreate", _), ("started", nil), ("restart", nil):
                    if vm == nil { wake.insert(instance.uuid) } else { recreate.insert(instance.uuid) }
                    continue
                case ("detached", nil), ("stopped", nil):
                    continue  // no VM: nothing runs
                default:
                    break
                }
                guard let vm else { continue }
                let agent = try await environment.agents.client(agentID: vm.agentID, instanceName: label, ledger: context.ledger)
                try await context.events.step(
                    stage: Self.stage(wanted), task: label, tags: [instance.group], index: position + 1, total: chosen.count
                ) {
                    if wanted != "started" {
                        try await lifecycle.stop(agent, spec: spec, shuttingDown: wanted == "detached", skipDrain: skipDrain)
                    }
                    if wanted == "started" || wanted == "restart" {
                        _ = try await agent.send(.start)
                        try await lifecycle.waitUntilRunning(
                            agent, watch: WatchTime(minimumMilliseconds: 200, maximumMilliseconds: 30_000), instanceName: label)
                        _ = try await agent.send(.runScript(name: "post-start", env: [:]))
                    }
                    if wanted == "detached", let id = instance.id {
                        for disk in try await PersistentDiskRecord.query(on: context.database).filter(\.$instanceID == id).filter(\.$active == true).all() {
                            guard let cid = disk.cid, let vmCID = vm.cid else { continue }
                            _ = try? await agent.send(.unmountDisk(diskCID: cid))
                            try await DiskSteps(context: context).detach(cid, from: vmCID)
                        }
                        try await steps.delete(vm)
                    }
                    instance.state = wanted == "restart" ? "started" : wanted
                    try await instance.save(on: context.database)
                }
            }
            if !wake.isEmpty || !recreate.isEmpty {
                try await UpdateDeploymentJob.deploy(
                    name: name, manifestText: deployment.manifest, recreate: recreate.isEmpty ? .none : .instances(recreate), wake: wake,
                    context: context, environment: environment)
            }
            return "/deployments/\(name)"
        }
    }

    static func stage(_ state: String) -> String {
        switch state {
        case "started": "Starting instance"
        case "stopped": "Stopping instance"
        case "detached": "Stopping instance (hard)"
        default: "Restarting instance"
        }
    }

    /// `*`, `group`, `group/index` or `group/uuid`.
    static func matches(_ target: String, _ instance: InstanceRecord) -> Bool {
        if target == "*" || target.isEmpty { return true }
        let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.first == instance.group else { return false }
        guard parts.count == 2 else { return true }
        return parts[1] == instance.uuid || parts[1] == String(instance.index)
    }
}
