import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `run_errand` (`POST /deployments/<d>/errands/<name>/runs`): runs the errand job's `bin/run` on
/// every instance that has the job (errands colocated on service instances, as BOSH allows), a
/// few at a time, and writes one JSON line per instance to the task's result: `{errand_name,
/// instance: {group, id}, exit_code, stdout, stderr}`. A non-zero exit code is the errand's
/// answer, not a task failure; the CLI reports it. With `when_changed` (`run-errand
/// --when-changed`) an errand whose every instance last ran it successfully with the
/// configuration it has now is skipped — for an errand group before any VM is made.
struct RunErrandJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let deployment = context.deployment,
            let errand = context.arguments["name"]?.stringValue, !errand.isEmpty
        else { throw DeployError("No deployment or errand given") }
        return try await context.withDeploymentLock(deployment) {
            let state = try await DeploymentState.load(deployment, on: context.database)
            // `--instance GROUP[/ID]`: only those (by uuid or index); none given means all.
            let wanted = (context.arguments["instances"]?.arrayValue ?? []).compactMap { item -> (String, String?)? in
                item["group"]?.stringValue.map { ($0, item["id"]?.stringValue) }
            }
            func chosen(_ instance: InstanceRecord) -> Bool {
                wanted.isEmpty
                    || wanted.contains { group, id in
                        group == instance.group && (id == nil || id == instance.uuid || id == String(instance.index))
                    }
            }
            let targets: [(InstanceRecord, VMRecord)] = state.instances.compactMap { instance in
                guard let id = instance.id, let vm = state.vms[id],
                    let spec = instance.appliedSpec,
                    spec.job.templates.contains(where: { $0.name == errand }), chosen(instance)
                else { return nil }
                return (instance, vm)
            }
            if targets.isEmpty, !wanted.isEmpty {
                let names = wanted.map { group, id in id.map { "\(group)/\($0)" } ?? group }.joined(separator: ", ")
                throw DeployError("No instance matching \(names) has errand '\(errand)' in deployment '\(deployment)'")
            }
            guard !targets.isEmpty else {
                guard let stored = state.deployment?.manifest,
                    let manifest = try? YAMLValue.parse(stored, source: "manifest"),
                    (manifest["instance_groups"]?.arrayValue ?? []).contains(where: {
                        $0["name"]?.stringValue == errand
                    })
                else {
                    throw DeployError(
                        "Errand '\(errand)' doesn't exist: no instance of deployment '\(deployment)' has that job")
                }
                return try await Self.runErrandGroup(
                    errand, manifest: manifest, keepAlive: context.arguments["keep_alive"] == true, context: context,
                    environment: environment)
            }
            let hashes = Dictionary(
                targets.map { ("\($0.0.group)/\($0.0.index)", $0.0.configurationHash ?? "") },
                uniquingKeysWith: { a, _ in a })
            if let skipped = try await Self.skipIfUnchanged(errand, instances: hashes, context: context) {
                return skipped
            }
            try await Self.run(errand, job: errand, on: targets, context: context, environment: environment)
            return "\(targets.count) errand run\(targets.count == 1 ? "" : "s")"
        }
    }

    /// Runs `job`'s `bin/run` on each instance, a few at a time, writing a result line for each.
    static func run(
        _ errand: String, job: String?, on targets: [(InstanceRecord, VMRecord)], context: TaskContext,
        environment: DeployEnvironment
    ) async throws {
        try await ParallelRun.forEach(targets, limit: 5) { position, target in
            let (instance, vm) = target
            let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
            let agent = try await environment.agents.client(
                agentID: vm.agentID, instanceName: label, ledger: context.ledger)
            let reply = try await context.events.step(
                stage: "Running errand", task: label, tags: [errand], index: position + 1, total: targets.count
            ) {
                try await agent.send(.runErrand(name: job))
            }
            let line: JSONValue = [
                "errand_name": .string(errand),
                "instance": ["group": .string(instance.group), "id": .string(instance.uuid)],
                "exit_code": reply["exit_code"] ?? .int(-1), "stdout": reply["stdout"] ?? "",
                "stderr": reply["stderr"] ?? "",
            ]
            try context.output.append(.result, try JSONCoding.string(line) + "\n")
            if let deployment = context.deployment {
                try await ErrandRuns.record(
                    deployment: deployment, errand: errand, instance: "\(instance.group)/\(instance.index)",
                    configurationHash: instance.configurationHash ?? "", exitCode: reply["exit_code"]?.intValue ?? -1,
                    on: context.database)
            }
        }
    }

    /// Under `--when-changed`, the task's result when nothing changed since the errand last
    /// succeeded everywhere (`instances`: `group/index` → configuration hash now); nil to run it.
    static func skipIfUnchanged(
        _ errand: String, instances: [String: String], context: TaskContext
    ) async throws -> String? {
        guard context.arguments["when_changed"] == true, let deployment = context.deployment,
            try await ErrandRuns.unchanged(
                deployment: deployment, errand: errand, instances: instances, on: context.database)
        else { return nil }
        let reason =
            "nothing changed since its last successful run on \(instances.count) instance\(instances.count == 1 ? "" : "s")"
        try context.events.record(
            stage: "Skipping errand", task: reason, tags: [errand], index: 1, total: 1, state: "finished", progress: 100
        )
        return "errand \(errand) skipped: \(reason)"
    }

    /// An errand that is an instance group of its own (`lifecycle: errand`): its VMs are made as a
    /// deploy makes them (compiled packages, rendered jobs, disks) but with the jobs not started,
    /// the errand runs on each, and the VMs, disks and addresses are deleted again — unless
    /// `keepAlive` (`run-errand --keep-alive`): then they stay, and the next run updates and reuses
    /// them instead of making new ones. Nothing else of the deployment is touched and its recorded
    /// manifest stays as it was.
    static func runErrandGroup(
        _ group: String, manifest: YAMLValue, keepAlive: Bool, context: TaskContext, environment: DeployEnvironment
    ) async throws -> String {
        guard let deployment = context.deployment, case .map(var root) = manifest,
            case .array(var groups)? = root["instance_groups"]
        else {
            throw DeployError("The deployed manifest has no instance groups")
        }
        for index in groups.indices where groups[index]["name"]?.stringValue == group {
            if case .map(var entry) = groups[index] {
                entry["lifecycle"] = "service"
                groups[index] = .map(entry)
            }
        }
        root["instance_groups"] = .array(groups)
        let prepared = try await context.events.step(stage: "Preparing deployment", task: "Preparing errand \(group)") {
            try await Preparation.prepare(
                name: deployment, manifestText: YAMLValue.map(root).yamlText(), recreate: .none, context: context,
                environment: environment)
        }
        guard let groupPlan = prepared.plan.instanceGroups.first(where: { $0.name == group }),
            let instanceGroup = prepared.manifest.instanceGroup(named: group),
            let stemcell = prepared.stemcells[instanceGroup.stemcell]
        else { throw DeployError("Errand '\(group)' has no instances to run on") }
        let steps = VMSteps(context: context, environment: environment)
        let compiled = try await CompileStage(
            context: context, steps: steps, deploymentID: prepared.deploymentID, cloud: prepared.cloud
        )
        .run(UpdateDeploymentJob.compileNeeds(prepared))
        let render = RenderStage(
            context: context, environment: environment, deploymentName: deployment, manifest: prepared.manifest,
            releases: prepared.releases, stemcells: prepared.stemcells, compiled: compiled,
            secrets: prepared.variables.secretStrings)
        var rendered = try await context.events.step(stage: "Rendering templates", task: "Rendering templates") {
            try await render.run(prepared.plan)
        }
        try TemplateSizeCheck(environment: environment).check(prepared.plan, rendered: rendered)
        // As BOSH does for an errand group: the first job is the spec's `job.template` and the
        // errand `run_errand` names, so either agent knows what to run.
        let errandJob = instanceGroup.jobs.first?.name
        for plan in groupPlan.instances {
            guard var output = rendered[plan.id],
                let first = output.spec.job.templates.first(where: { $0.name == errandJob })
            else { continue }
            output.spec.job.template = first.name
            output.spec.job.version = first.version
            rendered[plan.id] = output
        }
        let hashes = Dictionary(
            groupPlan.instances.map { ("\($0.group)/\($0.index)", rendered[$0.id]?.configurationHash ?? "") },
            uniquingKeysWith: { a, _ in a })
        if let skipped = try await skipIfUnchanged(group, instances: hashes, context: context) { return skipped }
        try await environment.configServer.store(prepared.variables.generated, on: context.database)
        let records = try await Preparation.recordInstances(prepared, on: context.database)
        let updater = InstanceUpdater(
            context: context, steps: steps, render: render, deploymentID: prepared.deploymentID,
            deploymentName: deployment,
            cloud: prepared.cloud, skipDrain: .none, canMoveAddresses: false)
        var created: [(InstanceRecord, VMRecord)] = []
        do {
            for plan in groupPlan.instances {
                guard let record = records[plan.id], let id = record.id, let output = rendered[plan.id] else {
                    continue
                }
                record.state = "stopped"  // installed, not started: the errand runs it
                // A VM kept alive by an earlier run is updated in place rather than replaced.
                let kept = try await VMRecord.active(of: id, on: context.database)
                let keptDisk = try await PersistentDiskRecord.active(of: id, on: context.database)
                _ = try await context.events.step(
                    stage: kept == nil ? "Creating errand VM" : "Updating errand VM", task: plan.displayName,
                    tags: [group]
                ) {
                    try await updater.update(
                        InstanceUpdater.Work(
                            plan: plan, record: record, vm: kept, disk: keptDisk, rendered: output,
                            stemcellCID: stemcell.cid,
                            watch: .none))
                }
                if let vm = try await VMRecord.active(of: id, on: context.database) {
                    created.append((record, vm))
                }
            }
            try await run(group, job: errandJob, on: created, context: context, environment: environment)
        } catch {
            if !keepAlive { try? await deleteErrandInstances(group, context: context, steps: steps) }
            throw error
        }
        if !keepAlive { try await deleteErrandInstances(group, context: context, steps: steps) }
        return "\(created.count) errand run\(created.count == 1 ? "" : "s")\(keepAlive ? ", VMs kept alive" : "")"
    }

    private static func deleteErrandInstances(_ group: String, context: TaskContext, steps: VMSteps) async throws {
        guard let deployment = context.deployment else { return }
        let state = try await DeploymentState.load(deployment, on: context.database)
        let deleter = InstanceDeleter(context: context, steps: steps, skipDrain: true)
        for instance in state.actualInstances where instance.group == group {
            try await context.events.step(stage: "Deleting errand instances", task: instance.displayName, tags: [group])
            {
                try await deleter.delete(instance, state: state)
            }
        }
    }
}
