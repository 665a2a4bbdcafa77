import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// `GET /deployments/<d>/jobs/<group or *>/<id or *>/logs?type=job,agent&filters=a,b` (a
/// `fetch_logs` task, as `bosh logs` starts it) and `GET /resources/<id>` (a blob the director
/// made for the user, such as those logs).
struct ResourcesController {
    let database: any Database
    let runner: TaskRunner
    let blobs: BlobStorage

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("deployments/:name/jobs/:group/:instance/logs") { request, context in
            let deployment = try await DeploymentController(database: controller.database, runner: controller.runner)
                .existing(context.parameters.get("name") ?? "")
            let group = context.parameters.get("group") ?? "*"
            let instance = context.parameters.get("instance") ?? "*"
            let query = request.uri.queryParameters
            let filters = (query.get("filters") ?? "").split(separator: ",").map { JSONValue.string(String($0)) }
            let task = try await controller.runner.enqueue(
                type: "fetch_logs", description: "fetch logs", user: context.user ?? "", deployment: deployment.name,
                arguments: [
                    "target": .string(group == "*" ? "*" : instance == "*" ? group : "\(group)/\(instance)"),
                    "type": .string(query.get("type") ?? "job"), "filters": .array(filters),
                ])
            return Response.redirect(to: task)
        }
        router.get("resources/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let path = controller.blobs.path(of: id), let data = FileManager.default.contents(atPath: path) else {
                throw DirectorError(.notFound, code: 100_002, "Resource '\(id)' not found")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
