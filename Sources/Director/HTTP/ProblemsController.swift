import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// Cloud check: `POST /deployments/<d>/scans` (a scan task), `GET /deployments/<d>/problems`
/// (the open problems with their resolutions) and `PUT /deployments/<d>/problems` with
/// `{"resolutions": {"<id>": "<resolution>"}}` (a task applying them).
struct ProblemsController {
    let database: any Database
    let runner: TaskRunner

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.post("deployments/:name/scans") { _, context in
            let deployment = try await controller.deployment(context)
            let task = try await controller.runner.enqueue(
                type: "cck_scan", description: "scan cloud", user: context.user ?? "", deployment: deployment.name)
            return Response.redirect(to: task)
        }
        router.get("deployments/:name/problems") { _, context -> Response in
            let deployment = try await controller.deployment(context)
            let problems = try await DeploymentProblemRecord.query(on: controller.database).filter(\.$deploymentID == deployment.id!)
                .filter(\.$state == "open").sort(\.$id).all()
            return .json(.array(problems.map(CloudCheck.json)))
        }
        router.put("deployments/:name/problems") { request, context in
            let deployment = try await controller.deployment(context)
            let body = try await request.body.collect(upTo: 1 << 20)
            guard case .object(let resolutions)? = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body)))?["resolutions"] else {
                throw DirectorError(.badRequest, code: 40_000, #"Expected {"resolutions": {"<problem id>": "<resolution>"}}"#)
            }
            let task = try await controller.runner.enqueue(
                type: "cck_apply_resolutions", description: "apply resolutions", user: context.user ?? "", deployment: deployment.name,
                arguments: [
                    "resolutions": .object(resolutions),
                    // Recreations only `without_wait`: the jobs are started, not watched.
                    "skip_watch": .bool(
                        resolutions.values.contains("recreate_vm_without_wait") && !resolutions.values.contains("recreate_vm")),
                ])
            return Response.redirect(to: task)
        }
    }

    func deployment(_ context: DirectorRequestContext) async throws -> DeploymentRecord {
        try await DeploymentController(database: database, runner: runner).existing(context.parameters.get("name") ?? "")
    }
}
