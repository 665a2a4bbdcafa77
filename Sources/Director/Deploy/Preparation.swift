import BosunCore
import CPI
import FluentKit
import Foundation

/// "Preparing deployment": everything a deploy checks and decides before it touches a VM.
enum Preparation {
    struct Prepared: Sendable {
        var deploymentID: Int
        var deployment: DeploymentRecord
        var manifest: DeploymentManifest
        var cloud: CloudConfig
        /// The configs deployed with, as ids (`DeployConfigs`).
        var configs: DeployConfigs.Context
        var releases: [String: ResolvedRelease]
        var stemcells: [String: StemcellRecord]
        var variables: DeploymentVariables
        var state: DeploymentState
        var plan: DeploymentPlan
        /// The CPI's `info`, asked once per deploy: its extensions and capacity.
        var cpiInfo: CPIInfo
        /// The CPI implements `move_address`.
        var canMoveAddresses: Bool { cpiInfo.supports(CPIExtension.moveAddress) }
        /// Instances (by id) whose replacement VM gets new addresses (BOSH-style swaps); their old
        /// addresses stay with the old VM until it is deleted.
        var renumbered: Set<String>
    }

    /// - Parameter dryRun: plan without writing anything (no deployment record for a new
    ///   deployment, interrupted swaps left as they are).
    static func prepare(
        name: String, manifestText: String, recreate: DeploymentPlanner.Recreate, dryRun: Bool = false,
        context: TaskContext,
        environment: DeployEnvironment
    ) async throws -> Prepared {
        let database = context.database
        var state = try await DeploymentState.load(name, on: database)
        if !dryRun, let id = state.deployment?.id {
            // A swap a killed director left half-done is put right before anything is planned.
            try await UnfinishedSwaps(
                context: context, steps: VMSteps(context: context, environment: environment), deploymentName: name
            )
            .resolve(deploymentID: id)
            state = try await DeploymentState.load(name, on: database)
        }
        let deployment: DeploymentRecord
        if let existing = state.deployment {
            deployment = existing
        } else {
            deployment = DeploymentRecord()
            deployment.name = name
            deployment.manifest = ""
            deployment.runtimeConfigIDs = "[]"
            deployment.releases = "[]"
            deployment.stemcells = "[]"
            deployment.createdAt = Date().timeIntervalSince1970
            if !dryRun { try await deployment.save(on: database) }
        }
        guard let deploymentID = deployment.id ?? (dryRun ? -1 : nil) else {
            throw DeployError("Deployment '\(name)' has no id")
        }

        let variables = try await deploymentVariables(
            name: name, manifestText: manifestText, context: context, environment: environment)
        let interpolated: YAMLValue
        do {
            let template = try ManifestTemplate(parsing: manifestText, source: "manifest")
            var options = ManifestTemplate.Options()
            options.expectAllVariablesFound = true
            interpolated = try template.evaluate(variables: variables, options: options)
        } catch {
            throw DeployError(
                "Failed to interpolate the manifest: \(ERBRenderer.redacting(variables.secretStrings, in: "\(error)"))")
        }
        var manifest: DeploymentManifest
        do {
            manifest = try DeploymentManifest(document: interpolated)
        } catch {
            throw DeployError(ERBRenderer.redacting(variables.secretStrings, in: error.description))
        }
        // Every name's latest cloud and runtime config, or the versions the deploy's context pins.
        let configs = try await DeployConfigs.resolve(
            try DeployConfigs.Context(argument: context.arguments["context"]), on: database)
        let runtimeRecords = configs.runtime
        var runtimeConfigs: [RuntimeConfig] = []
        for record in runtimeRecords.sorted(by: { $0.name < $1.name }) {
            do {
                let document = try ManifestTemplate(parsing: record.content, source: "runtime config '\(record.name)'")
                    .evaluate(variables: variables)
                runtimeConfigs.append(try RuntimeConfig(document: document))
            } catch {
                throw DeployError(
                    "Runtime config '\(record.name)': \(ERBRenderer.redacting(variables.secretStrings, in: "\(error)"))"
                )
            }
        }
        do {
            manifest = try manifest.applyingAddons(runtimeConfigs)
        } catch {
            throw DeployError(error.description)
        }
        guard manifest.name == name else {
            throw DeployError("The manifest's name '\(manifest.name)' is not the deployment '\(name)'")
        }
        let cloud = try configs.cloudConfig()
        let unsupported = manifest.unsupportedKeys() + cloud.unsupportedKeys()
        if !unsupported.isEmpty {
            throw DeployError(
                "This deploy needs what Bosun cannot do yet:\n"
                    + unsupported.map { "  - \($0)" }.joined(separator: "\n"))
        }
        let problems = manifest.problems(against: cloud)
        if !problems.isEmpty {
            throw DeployError(
                "Invalid deployment manifest for this cloud config (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
                    + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }
        let releases = try await DeploymentInputs.releases(of: manifest, on: database)
        try DeploymentInputs.checkJobs(of: manifest, in: releases)
        let stemcells = try await DeploymentInputs.stemcells(of: manifest, on: database)
        let taken = try await DeploymentState.addressesTakenElsewhere(than: deploymentID, on: database)
        func makePlan(actual: [ActualInstance], taken: Set<IPv4Address>) throws -> DeploymentPlan {
            do {
                var planner = DeploymentPlanner(
                    manifest: manifest, cloudConfig: cloud,
                    stemcells: stemcells.mapValues { "\($0.name)/\($0.version)" },
                    actual: actual, ipsTakenElsewhere: taken, recreate: recreate,
                    makeID: { UUID().uuidString.lowercased() })
                planner.recreatePersistentDisks = context.arguments["recreate_persistent_disks"] == .bool(true)
                return try planner.plan()
            } catch {
                throw DeployError(error.description)
            }
        }
        var plan = try makePlan(actual: state.actualInstances, taken: taken)
        // BOSH-style swaps (the CPI cannot move addresses) give replacements new addresses: the
        // plan is made again with theirs taken, so templates and links see the new ones.
        let cpiInfo = try await context.cpi.info()
        let canMoveAddresses = cpiInfo.supports(CPIExtension.moveAddress)
        var renumbered: Set<String> = []
        for groupPlan in plan.instanceGroups {
            guard let policy = manifest.instanceGroup(named: groupPlan.name)?.update else { continue }
            for instance in groupPlan.instances where instance.needsRecreate {
                let mode = SwapMode.choose(
                    strategy: policy.vmStrategy, canMoveAddresses: canMoveAddresses, networks: instance.networks)
                if mode == .newAddress && instance.networks.contains(where: { $0.kind == .manual && $0.ip != nil }) {
                    renumbered.insert(instance.id)
                }
            }
        }
        if !renumbered.isEmpty {
            var actual = state.actualInstances
            var stillTaken = taken
            for position in actual.indices where renumbered.contains(actual[position].id) {
                stillTaken.formUnion(actual[position].ips.values)
                actual[position].ips = [:]
            }
            plan = try makePlan(actual: actual, taken: stillTaken)
        }
        for instance in plan.allInstances where instance.isChanged {
            context.events.debug(
                "\(instance.displayName): \(instance.reasons.map(\.description).joined(separator: ", "))")
        }
        return Prepared(
            deploymentID: deploymentID, deployment: deployment, manifest: manifest, cloud: cloud,
            configs: configs.context,
            releases: releases, stemcells: stemcells, variables: variables, state: state, plan: plan,
            cpiInfo: cpiInfo, renumbered: renumbered)
    }

    /// The config server's values for this deploy, with the ones to make anew left out: those
    /// `regenerate-variable` asked for (task argument `regenerate`), and what the variables'
    /// `update_mode` and `update.strategy` say.
    static func deploymentVariables(
        name: String, manifestText: String, context: TaskContext, environment: DeployEnvironment
    ) async throws -> DeploymentVariables {
        let server = environment.configServer
        let stored = try await server.values(of: name, on: context.database)
        let rotation = VariableRotation(manifestText: manifestText)
        let requested = Set(
            (context.arguments["regenerate"]?.arrayValue ?? []).compactMap(\.stringValue).map {
                server.fullName($0, deployment: name)
            })
        let stemcells = try await DeploymentInputs.stemcellVersions(ofManifestText: manifestText, on: context.database)
        let regenerate = rotation.toRegenerate(stored: stored, requested: requested, stemcells: stemcells) {
            server.fullName($0, deployment: name)
        }
        if !regenerate.isEmpty {
            context.events.debug("Generating new values for \(regenerate.sorted().joined(separator: ", "))")
        }
        return DeploymentVariables(
            server: server, deployment: name, stored: stored, rotation: rotation, regenerate: regenerate,
            stemcells: stemcells)
    }

    /// Writes new instances and every instance's addresses before any VM is made, so the
    /// addresses are reserved and a crash leaves nothing unaccounted for.
    static func recordInstances(
        _ prepared: Prepared, on database: any Database
    ) async throws -> [String: InstanceRecord] {
        var records: [String: InstanceRecord] = [:]
        for plan in prepared.plan.allInstances {
            let record = prepared.state.instance(withUUID: plan.id) ?? InstanceRecord()
            if record.id == nil {
                record.deploymentID = prepared.deploymentID
                record.group = plan.group
                record.index = plan.index
                record.uuid = plan.id
                record.state = "started"
                record.createdAt = Date().timeIntervalSince1970
            }
            record.az = plan.az
            record.bootstrap = plan.bootstrap
            try await record.save(on: database)
            if prepared.renumbered.contains(plan.id), let id = record.id, let oldVM = prepared.state.vms[id]?.id {
                // The old VM keeps its addresses until it is orphaned and deleted.
                for address in prepared.state.addresses[id] ?? [] {
                    address.instanceID = nil
                    address.vmID = oldVM
                    try await address.save(on: database)
                }
            }
            try await AddressBook.record(
                plan, instanceID: record.id!, deploymentID: prepared.deploymentID, on: database)
            records[plan.id] = record
        }
        return records
    }

    /// Remembers what was deployed: the manifest (with its `((variables))`, not their values),
    /// the cloud config, releases and stemcells.
    static func finish(_ prepared: Prepared, manifestText: String, on database: any Database) async throws {
        let deployment = prepared.deployment
        deployment.manifest = manifestText
        deployment.cloudConfigID = prepared.configs.cloudConfigIDs.max()
        deployment.cloudConfigIDs = try JSONCoding.string(prepared.configs.cloudConfigIDs)
        deployment.runtimeConfigIDs = try JSONCoding.string(prepared.configs.runtimeConfigIDs)
        let releases: [JSONValue] = prepared.releases.values.sorted { $0.name < $1.name }.map {
            ["name": .string($0.name), "version": .string($0.version)]
        }
        let stemcells: [JSONValue] = prepared.stemcells.values.sorted { $0.name < $1.name }.map {
            ["name": .string($0.name), "version": .string($0.version)]
        }
        deployment.releases = try JSONCoding.string(JSONValue.array(releases))
        deployment.stemcells = try JSONCoding.string(JSONValue.array(stemcells))
        try await deployment.save(on: database)
    }
}
