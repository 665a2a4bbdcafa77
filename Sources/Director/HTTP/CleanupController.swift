import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// `GET /orphaned_vms`, `POST /cleanup` (`bosh orphaned-vms`, `bosh clean-up [--all]`) and the
/// orphaned disks: `GET /disks`, `DELETE /disks/<cid>`, `PUT /disks/<cid>/attachments`.
struct CleanupController {
    let database: any Database
    let runner: TaskRunner

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("orphaned_vms") { _, _ -> Response in
            .json(.array(try await OrphanedVMs.listing(on: controller.database)))
        }
        router.get("disks") { _, _ -> Response in
            .json(.array(try await OrphanedDisks.listing(on: controller.database)))
        }
        router.delete("disks/:cid") { request, context in
            let cid = context.parameters.get("cid") ?? ""
            // `bosh orphan-disk` sends `?orphan=true`; without it, `bosh delete-disk`.
            if let orphan = request.uri.queryParameters.get("orphan"), orphan != "false" {
                let task = try await controller.runner.enqueue(
                    type: "orphan_disk", description: "orphan disk", user: context.user ?? "",
                    arguments: ["disk_cid": .string(cid)])
                return Response.redirect(to: task)
            }
            if try await PersistentDiskRecord.query(on: controller.database).filter(\.$cid == cid).first() != nil {
                throw DirectorError(
                    .badRequest, code: 520_000, "Deleting persistent disk is not supported: [\"\(cid)\"]")
            }
            let task = try await controller.runner.enqueue(
                type: "delete_orphan_disk", description: "delete disk \(cid)", user: context.user ?? "",
                arguments: ["disk_cid": .string(cid)])
            return Response.redirect(to: task)
        }
        router.put("disks/:cid/attachments") { request, context in
            let cid = context.parameters.get("cid") ?? ""
            let query = request.uri.queryParameters
            guard let deployment = query.get("deployment"), let group = query.get("job"),
                let instance = query.get("instance_id")
            else {
                throw DirectorError(.badRequest, code: 40_001, "attaching a disk needs deployment, job and instance_id")
            }
            let task = try await controller.runner.enqueue(
                type: "attach_disk", description: "attach disk '\(cid)' to '\(group)/\(instance)'",
                user: context.user ?? "",
                deployment: deployment,
                arguments: ["disk_cid": .string(cid), "job": .string(group), "instance_id": .string(instance)])
            return Response.redirect(to: task)
        }
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
