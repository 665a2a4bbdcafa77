import BosunCore
import CPI
import FluentKit
import Foundation

/// `update_deployment` (`POST /deployments`), in the order of reference §1.2: take the lock,
/// resolve variables, validate, plan, compile, render (all before any VM is touched), then
/// delete unneeded instances and update the changed ones group by group. Arguments:
/// `{manifest, recreate?, skip_drain?, canaries?, max_in_flight?, dry_run?, surge?, fit_surge?, fix?}`.
/// With `fix` (`deploy --fix`), VMs that are gone or whose agent does not answer are deleted
/// first and their instances get new VMs, instead of the deploy failing on them.
struct UpdateDeploymentJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy else {
            throw DeployError("This director cannot deploy: it has no agent bus configured")
        }
        guard let name = context.deployment, let text = context.arguments["manifest"]?.stringValue else {
            throw DeployError("The deploy task has no deployment name or manifest")
        }
        return try await context.withDeploymentLock(name) {
            if context.arguments["fix"] == .bool(true), context.arguments["dry_run"] != .bool(true) {
                let state = try await DeploymentState.load(name, on: context.database)
                _ = try await DeadVMs.deleteDead(
                    state.instances, state: state, deployment: name, context: context, environment: environment,
                    reportAnswering: false)
            }
            try await Self.deploy(
                name: name, manifestText: text, recreate: try await Self.recreate(context), wake: [], context: context,
                environment: environment)
            return "/deployments/\(name)"
        }
    }

    /// `--recreate-vms-created-before TIME` (the instances whose VM is older; bosh sends
    /// `recreate=true` with it), `--recreate` (every VM), or none.
    static func recreate(_ context: TaskContext) async throws -> DeploymentPlanner.Recreate {
        guard let cutoff = try vmsCreatedBefore(context), let name = context.deployment else {
            return context.arguments["recreate"] == .bool(true) ? .all : .none
        }
        return .instances(
            try await DeploymentState.load(name, on: context.database).instances(withVMCreatedBefore: cutoff))
    }

    /// The task's `recreate_vms_created_before`, nil without one.
    static func vmsCreatedBefore(_ context: TaskContext) throws -> Date? {
        guard let text = context.arguments["recreate_vms_created_before"]?.stringValue else { return nil }
        guard let cutoff = ISO8601DateFormatter().date(from: text) else {
            throw DeployError(
                "recreate_vms_created_before must be an RFC 3339 time such as 2026-12-08T10:00:00Z, got '\(text)'")
        }
        return cutoff
    }

    /// The deploy itself, also used by `recreate` and by `start` of detached instances.
    /// - Parameter wake: detached instances (by id) to give a VM again; other detached
    ///   instances stay without one, as `stop --hard` left them.
    static func deploy(
        name: String, manifestText: String, recreate: DeploymentPlanner.Recreate, wake: Set<String>,
        context: TaskContext,
        environment: DeployEnvironment
    ) async throws {
        let database = context.database
        let dryRun = context.arguments["dry_run"] == .bool(true)
        let prepared = try await context.events.step(stage: "Preparing deployment", task: "Preparing deployment") {
            try await Preparation.prepare(
                name: name, manifestText: manifestText, recreate: recreate, dryRun: dryRun, context: context,
                environment: environment)
        }
        try await context.checkCancelled()
        let overrides = UpdateStage.Overrides(
            canaries: context.arguments["canaries"]?.stringValue.flatMap(CountOrPercentage.init(parsing:)),
            maxInFlight: context.arguments["max_in_flight"]?.stringValue.flatMap(CountOrPercentage.init(parsing:)),
            skipWatch: context.arguments["skip_watch"] == .bool(true))
        let canMoveAddresses = prepared.canMoveAddresses
        let firstDeploy = prepared.state.deployment?.manifest.isEmpty ?? true
        let planStage = UpdatePlanStage(
            context: context, prepared: prepared, overrides: overrides, firstDeploy: firstDeploy)
        let updatePlan = try await planStage.run(
            surge: context.arguments["surge"]?.intValue, fitSurge: context.arguments["fit_surge"] == .bool(true))
        let steps = VMSteps(context: context, environment: environment)
        var renderSetup = RenderStage(
            context: context, environment: environment, deploymentName: name, manifest: prepared.manifest,
            releases: prepared.releases, stemcells: prepared.stemcells, compiled: [:],
            secrets: prepared.variables.secretStrings,
            packagesMayBeUncompiled: dryRun)
        // Links (across deployments too) are resolved before compiling makes a single VM.
        let links = try await renderSetup.resolveLinks(prepared.plan)
        let needs = compileNeeds(prepared)
        if !dryRun {
            renderSetup.compiled = try await CompileStage(
                context: context, steps: steps, deploymentID: prepared.deploymentID, cloud: prepared.cloud
            )
            .run(needs)
        }
        try await context.checkCancelled()
        let render = renderSetup
        let rendered = try await context.events.step(stage: "Rendering templates", task: "Rendering templates") {
            try await render.run(prepared.plan, links: links)
        }
        try TemplateSizeCheck(environment: environment).check(prepared.plan, rendered: rendered)
        // The plan with what rendering found, computed once: printed, then carried out as printed.
        let plan = Self.plan(prepared, rendered: rendered, wake: wake)
        try planStage.record(plan, capacity: updatePlan)
        if dryRun {
            try context.events.record(
                stage: "Dry run",
                task:
                    "nothing was changed (\(plan.allInstances.contains(where: \.isChanged) ? "plan above" : "no instance to update"))",
                tags: [], index: 1, total: 1, state: "finished", progress: 100)
            return
        }
        // Only now, with everything checked, are generated variables kept and instances recorded.
        let variableSet = try await environment.configServer.storeAndRecordSet(prepared.variables, on: database)
        let records = try await Preparation.recordInstances(prepared, on: database)
        // Every VM learns the names of the instances about to exist before any of them starts.
        try await DNSRecords.publishAndSync(context: context, environment: environment)
        try await context.checkCancelled()

        var updater = InstanceUpdater(
            context: context, steps: steps, render: render, deploymentID: prepared.deploymentID, deploymentName: name,
            cloud: prepared.cloud, skipDrain: SkipDrain(argument: context.arguments["skip_drain"]),
            canMoveAddresses: canMoveAddresses)
        updater.variableSetID = variableSet.id
        let stage = UpdateStage(context: context, updater: updater, overrides: overrides, surge: updatePlan.surge)
        for (dropped, instances) in prepared.plan.obsoleteGroups.sorted(by: { $0.key < $1.key }) {
            context.events.debug("Deleting instance group '\(dropped)', gone from the manifest")
            try await stage.deleteObsolete(instances, state: prepared.state, maxInFlight: 5)
        }
        var groupPlans = plan.instanceGroups.compactMap { plan in
            prepared.manifest.instanceGroup(named: plan.name).flatMap { group in group.update.map { (plan, group, $0) }
            }
        }
        if context.arguments["links_first"] == .bool(true) {
            // Providers of links come back before their consumers (resurrection).
            let order = LinkOrder.sorted(LinkOrder.groups(of: prepared.manifest, releases: prepared.releases))
            groupPlans.sort { (order.firstIndex(of: $0.0.name) ?? 0) < (order.firstIndex(of: $1.0.name) ?? 0) }
        }
        // Consecutive `serial: false` groups update at once; serial ones one after another.
        for partition in UpdateSchedule.partitions(groupPlans, serial: { $0.2.serial }) {
            try await ParallelRun.forEach(partition.groups, limit: partition.serial ? 1 : partition.groups.count) {
                _, entry in
                let (groupPlan, group, policy) = entry
                guard let stemcell = prepared.stemcells[group.stemcell] else { return }
                try await stage.deleteObsolete(
                    groupPlan.obsolete, state: prepared.state,
                    maxInFlight: policy.maxInFlight(of: max(1, groupPlan.obsolete.count)))
                var works: [InstanceUpdater.Work] = []
                for plan in groupPlan.instances where plan.isChanged {
                    guard let record = records[plan.id], let id = record.id, let output = rendered[plan.id] else {
                        continue
                    }
                    if record.state == "detached" { record.state = "started" }  // woken: the plan kept only those
                    works.append(
                        InstanceUpdater.Work(
                            plan: plan, record: record, vm: prepared.state.vms[id], disk: prepared.state.disks[id],
                            rendered: output,
                            stemcellCID: stemcell.cid, watch: policy.updateWatchTime, strategy: policy.vmStrategy))
                }
                try await stage.update(group: group, works: works, firstDeploy: firstDeploy)
            }
        }
        try stage.reportDowntime()
        try await database.transaction { database in
            try await Preparation.finish(prepared, manifestText: manifestText, on: database)
            try await SharedLinks.replace(render.sharedLinks(prepared.plan), of: name, on: database)
        }
        try await DNSRecords.publishAndSync(context: context, environment: environment)
        variableSet.deployed = true
        try await variableSet.save(on: database)
        // The archives this deploy replaced hold the old credentials: gone now that it succeeded.
        try await RenderedArchives.sweep(name, context: context)
        try reportTiming(context)
    }

    /// The prepared plan with what rendering found (`addingRenderedChanges`): instances whose
    /// rendered configuration differs from what they run, detached instances kept detached.
    static func plan(
        _ prepared: Preparation.Prepared, rendered: [String: RenderStage.Rendered], wake: Set<String>
    ) -> DeploymentPlan {
        let existing = prepared.state.instances
        return prepared.plan.addingRenderedChanges(
            running: Dictionary(
                existing.map { ($0.uuid, $0.configurationHash) }, uniquingKeysWith: { first, _ in first }),
            rendered: rendered.mapValues(\.configurationHash),
            detached: Set(existing.filter { $0.state == "detached" }.map(\.uuid)), wake: wake)
    }

    /// Every package the service groups' jobs need, on their stemcells (compiled ones are reused).
    static func compileNeeds(_ prepared: Preparation.Prepared) -> [CompileStage.Need] {
        var needs: [CompileStage.Need] = []
        for group in prepared.manifest.instanceGroups where group.lifecycle == .service {
            guard let stemcell = prepared.stemcells[group.stemcell] else { continue }
            for job in group.jobs {
                guard let release = prepared.releases[job.release] else { continue }
                needs += release.packages(ofJob: job.name).map {
                    CompileStage.Need(package: $0, release: release, stemcell: stemcell)
                }
            }
        }
        return needs
    }

    /// How the deploy's wall time split between waiting on others and the director's own work;
    /// in the debug log and as the task's result output (`bosun task N --result`).
    static func reportTiming(_ context: TaskContext) throws {
        let summary = context.ledger.summary()
        let timing: JSONValue = [
            "wall_seconds": .double(summary.wall), "external_busy_seconds": .double(summary.busy),
            "director_own_seconds": .double(summary.ownSeconds),
            "cpi_seconds": .double(summary.sums["cpi"] ?? 0), "agent_seconds": .double(summary.sums["agent"] ?? 0),
            "render_seconds": .double(summary.sums["render"] ?? 0),
            "watch_seconds": .double(summary.sums["watch"] ?? 0),
            "drain_seconds": .double(summary.sums["drain"] ?? 0),
        ]
        let line = try JSONCoding.string(timing)
        context.events.debug("Deploy timing: \(line)")
        try context.output.append(.result, line + "\n")
    }
}

extension SkipDrain {
    /// A task's `skip_drain` argument: the query's value (`*` or group names), or `true` as
    /// tasks queued by earlier directors have it.
    init(argument: JSONValue?) {
        self = argument == .bool(true) ? .all : SkipDrain(query: argument?.stringValue)
    }
}
