import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// `GET /orphaned_vms` and `POST /cleanup` (`bosh orphaned-vms`, `bosh clean-up [--all]`).
struct CleanupController {
    let database: any Database
    let runner: TaskRunner

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("orphaned_vms") { _, _ -> Response in .json(.array(try await OrphanedVMs.listing(on: controller.database))) }
        router.post("cleanup") { request, context in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let config = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body)))?["config"]
            let all = config?["remove_all"] == .bool(true)
            let task = try await controller.runner.enqueue(
                type: "clean_up", description: all ? "clean up all" : "clean up", user: context.user ?? "",
                arguments: ["remove_all": .bool(all)])
            return Response.redirect(to: task)
        }
    }
}
