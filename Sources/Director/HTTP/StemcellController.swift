import Blobstore
import BosunCore
import FluentKit
import Foundation
import Hummingbird
import NIOCore

/// `POST /stemcell_uploads` (is this one needed?), `POST /stemcells` (raw tarball body → task),
/// `GET /stemcells`, `DELETE /stemcells/<name>/<version>` (→ task).
struct StemcellController {
    let database: any Database
    let runner: TaskRunner
    let uploadsDirectory: String

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.post("stemcell_uploads") { request, _ in try await controller.needed(request) }
        router.post("stemcells") { request, context in try await controller.upload(request, context) }
        router.get("stemcells") { _, _ in try await controller.list() }
        router.delete("stemcells/:name/:version") { request, context in
            try await controller.delete(context, force: request.uri.queryParameters.get("force") == "true")
        }
    }

    func needed(_ request: Request) async throws -> Response {
        let body = try await ConfigController.jsonBody(request)
        let version: String? = switch body["stemcell"]?["version"] {
        case .string(let text)?: text
        case .int(let number)?: String(number)
        case .double(let number)?: String(number)
        default: nil
        }
        guard let name = body["stemcell"]?["name"]?.stringValue, let version else {
            throw DirectorError(.badRequest, code: 50_001, "Expected {\"stemcell\": {\"name\", \"version\"}}")
        }
        let existing = try await StemcellRecord.query(on: database).filter(\.$name == name).filter(\.$version == version).count()
        return .json(["needed": .bool(existing == 0)])
    }

    func upload(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        var arguments = try await UploadedTarball.receive(request, into: uploadsDirectory, kind: "stemcell")
        arguments["fix"] = .bool(request.uri.queryParameters.get("fix") == "true")
        let task = try await runner.enqueue(
            type: "update_stemcell", description: "create stemcell", user: context.user ?? "", arguments: .object(arguments))
        return .redirect(to: task)
    }

    func list() async throws -> Response {
        let stemcells = try await StemcellRecord.query(on: database).sort(\.$name).sort(\.$id, .descending).all()
        return .json(.array(stemcells.map { stemcell in
            [
                "name": .string(stemcell.name), "operating_system": .string(stemcell.operatingSystem), "version": .string(stemcell.version),
                "cid": .string(stemcell.cid), "cpi": .string(stemcell.cpi), "deployments": [], "api_version": .int(stemcell.apiVersion),
            ]
        }))
    }

    func delete(_ context: DirectorRequestContext, force: Bool) async throws -> Response {
        let name = context.parameters.get("name") ?? "", version = context.parameters.get("version") ?? ""
        let task = try await runner.enqueue(
            type: "delete_stemcell", description: "delete stemcell: \(name)/\(version)", user: context.user ?? "",
            arguments: ["name": .string(name), "version": .string(version), "force": .bool(force)])
        return .redirect(to: task)
    }
}
