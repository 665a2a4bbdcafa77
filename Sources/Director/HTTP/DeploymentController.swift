import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// `/deployments`: deploy (manifest → task), list, manifest, diff, delete, instances and VMs.
struct DeploymentController {
    let database: any Database
    let runner: TaskRunner

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.post("deployments") { request, context in try await controller.deploy(request, context) }
        router.get("deployments") { _, _ in try await controller.list() }
        router.get("deployments/:name") { _, context in
            try await controller.manifest(context.parameters.get("name") ?? "")
        }
        router.post("deployments/:name/diff") { request, context in try await controller.diff(request, context) }
        router.delete("deployments/:name") { request, context in
            let name = try await controller.existing(context.parameters.get("name") ?? "").name
            let task = try await controller.runner.enqueue(
                type: "delete_deployment", description: "delete deployment \(name)", user: context.user ?? "",
                deployment: name,
                arguments: ["force": .bool(request.uri.queryParameters.get("force") == "true")])
            return Response.redirect(to: task)
        }
        for path in ["deployments/:name/jobs/:group", "deployments/:name/jobs/:group/:instance"] {
            router.put(RouterPath(path)) { request, context in try await controller.changeState(request, context) }
        }
        router.post("deployments/:name/errands/:errand/runs") { request, context in
            let deployment = try await controller.existing(context.parameters.get("name") ?? "")
            let errand = context.parameters.get("errand") ?? ""
            // bosh's body: {"keep-alive", "when-changed", "instances": [{"group", "id"?}]}.
            let body = try await request.body.collect(upTo: 1 << 20)
            let options = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body))) ?? [:]
            let task = try await controller.runner.enqueue(
                type: "run_errand", description: "run errand \(errand)", user: context.user ?? "",
                deployment: deployment.name,
                arguments: [
                    "name": .string(errand), "instances": options["instances"] ?? [],
                    "keep_alive": options["keep-alive"] ?? false,
                    "when_changed": options["when-changed"] ?? false,
                ])
            return Response.redirect(to: task)
        }
        for kind in ["vms", "instances"] {
            router.get("deployments/:name/\(kind)") { request, context in
                try await controller.instances(request, context, kind: kind)
            }
        }
    }

    /// `PUT /deployments/<d>/jobs/<group>[/<index or id>]?state=started|stopped|detached|restart|recreate`.
    func changeState(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let deployment = try await existing(context.parameters.get("name") ?? "")
        let query = request.uri.queryParameters
        let state = query.get("state") ?? ""
        let dryRun = query.get("dry_run") == "true"
        guard ["started", "stopped", "detached", "restart", "recreate"].contains(state) else {
            throw DirectorError(.badRequest, code: 40_000, "Unknown state '\(state)'")
        }
        var target = context.parameters.get("group") ?? "*"
        if let instance = context.parameters.get("instance") { target += "/" + instance }
        var arguments: [String: JSONValue] = [
            "target": .string(target), "state": .string(state),
            "skip_drain": SkipDrain(query: query.get("skip_drain")).queryValue.map(JSONValue.string) ?? .null,
            "fix": .bool(query.get("fix") == "true"), "dry_run": .bool(dryRun),
        ]
        if let before = query.get("recreate_vms_created_before"), !before.isEmpty {
            guard state == "recreate" else {
                throw DirectorError(
                    .badRequest, code: 40_000, "Must pass state=recreate when specifying recreate_vms_created_before")
            }
            arguments["recreate_vms_created_before"] = .string(before)
        }
        for key in ["canaries", "max_in_flight"] {
            guard let value = query.get(key) else { continue }
            guard CountOrPercentage(parsing: value) != nil else {
                throw DirectorError(
                    .badRequest, code: 40_000, "\(key) must be a number or a percentage, got '\(value)'")
            }
            arguments[key] = .string(value)
        }
        let task = try await runner.enqueue(
            type: "change_state", description: "\(state) instance \(target)" + (dryRun ? " (dry run)" : ""),
            user: context.user ?? "", deployment: deployment.name,
            arguments: .object(arguments))
        return Response.redirect(to: task)
    }

    func existing(_ name: String) async throws -> DeploymentRecord {
        guard let record = try await DeploymentRecord.query(on: database).filter(\.$name == name).first() else {
            throw DirectorError(.notFound, code: 70_000, "Deployment '\(name)' doesn't exist")
        }
        return record
    }

    func deploy(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let text = try await request.yamlText(source: "manifest")
        let name: String
        do {
            let yaml = try YAMLValue.parse(text, source: "manifest")
            guard let value = yaml["name"]?.stringValue, !value.isEmpty else {
                throw DirectorError(.badRequest, code: 40_001, "Deployment manifest doesn't have a name")
            }
            name = value
        } catch let error as YAMLSyntaxError {
            throw DirectorError(
                .badRequest, code: 40_001, "Incorrect YAML structure of the uploaded manifest: \(error.message)")
        }
        let query = request.uri.queryParameters
        var arguments: [String: JSONValue] = [
            "manifest": .string(text), "recreate": .bool(query.get("recreate") == "true"),
        ]
        if let skipDrain = SkipDrain(query: query.get("skip_drain")).queryValue {
            arguments["skip_drain"] = .string(skipDrain)
        }
        if let canaries = query.get("canaries") { arguments["canaries"] = .string(canaries) }
        if let maxInFlight = query.get("max_in_flight") { arguments["max_in_flight"] = .string(maxInFlight) }
        if query.get("dry_run") == "true" { arguments["dry_run"] = true }
        if query.get("fix") == "true" { arguments["fix"] = true }
        if query.get("recreate_persistent_disks") == "true" { arguments["recreate_persistent_disks"] = true }
        if let surge = query.get("surge") {
            guard let count = Int(surge), count >= 1 else {
                throw DirectorError(.badRequest, code: 40_001, "surge must be a positive number, got '\(surge)'")
            }
            arguments["surge"] = .int(count)
        }
        if query.get("fit_surge") == "true" { arguments["fit_surge"] = true }
        if let pinned = query.get("context"), !pinned.isEmpty { arguments["context"] = .string(pinned) }
        if let before = query.get("recreate_vms_created_before"), !before.isEmpty {
            arguments["recreate_vms_created_before"] = .string(before)
        }
        let task = try await runner.enqueue(
            type: "update_deployment",
            description: query.get("dry_run") == "true" ? "create deployment (dry run)" : "create deployment",
            user: context.user ?? "", deployment: name,
            arguments: .object(arguments))
        return Response.redirect(to: task)
    }

    func list() async throws -> Response {
        let latestCloud = try await DeployConfigs.latest(on: database).context.cloudConfigIDs
        var result: [JSONValue] = []
        for deployment in try await DeploymentRecord.query(on: database).sort(\.$name).all() {
            func decoded(_ text: String) -> JSONValue {
                (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(text.utf8))) ?? []
            }
            let deployedCloud =
                deployment.cloudConfigIDs.flatMap { try? JSONCoding.decoder.decode([Int].self, from: Data($0.utf8)) }
                ?? deployment.cloudConfigID.map { [$0] } ?? []
            let cloud = deployedCloud.isEmpty ? "none" : deployedCloud == latestCloud ? "latest" : "outdated"
            result.append([
                "name": .string(deployment.name), "releases": decoded(deployment.releases),
                "stemcells": decoded(deployment.stemcells),
                "teams": [], "cloud_config": .string(cloud),
            ])
        }
        return .json(.array(result))
    }

    func manifest(_ name: String) async throws -> Response {
        .json(["manifest": .string(try await existing(name).manifest)])
    }

    /// The line diff between the deployed manifest and the one posted, as the CLI prints it
    /// before asking to go on.
    func diff(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let text = try await request.yamlText(source: "manifest")
        let old = try await DeploymentRecord.query(on: database).filter(\.$name == name).first()?.manifest ?? ""
        let configs = try await DeployConfigs.latest(on: database).context
        let redact = request.uri.queryParameters.get("redact") != "false"
        return .json([
            "context": try JSONValue(encoding: configs),
            "diff": .array(
                LineDiff.diff(from: redact ? Self.redacted(old) : old, to: redact ? Self.redacted(text) : text)),
        ])
    }

    /// A manifest as the redacted diff shows it; text that is not YAML is shown as it is.
    static func redacted(_ text: String) -> String {
        guard !text.isEmpty, let document = try? YAMLValue.parse(text, source: "manifest") else { return text }
        return ManifestRedaction.redact(document).yamlText()
    }

    /// `?format=full` is a task whose result is one JSON object per line (agents are asked for
    /// their state); without it, the plain list from the database.
    func instances(_ request: Request, _ context: DirectorRequestContext, kind: String) async throws -> Response {
        let deployment = try await existing(context.parameters.get("name") ?? "")
        if request.uri.queryParameters.get("format") == "full" {
            let task = try await runner.enqueue(
                type: "vms", description: "retrieve vm-stats", user: context.user ?? "", deployment: deployment.name,
                arguments: ["instances": .bool(kind == "instances")])
            return Response.redirect(to: task)
        }
        let state = try await DeploymentState.load(deployment.name, on: database)
        let rows: [JSONValue] = state.instances.compactMap { instance in
            guard let id = instance.id else { return nil }
            let vm = state.vms[id]
            return [
                "agent_id": vm.map { .string($0.agentID) } ?? .null, "cid": vm?.cid.map(JSONValue.string) ?? .null,
                "job": .string(instance.group), "index": .int(instance.index), "id": .string(instance.uuid),
                "az": instance.az.map(JSONValue.string) ?? .null,
                "ips": .array((state.addresses[id] ?? []).map { .string($0.address) }),
                "expects_vm": .bool(instance.state != "detached"),
            ]
        }
        return .json(.array(rows))
    }
}
