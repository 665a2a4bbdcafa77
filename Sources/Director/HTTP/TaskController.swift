import BosunCore
import FluentKit
import Foundation
import Hummingbird
import NIOCore

/// `/tasks`, `/tasks/<id>`, `/tasks/<id>/output` (with `Range`), `DELETE /task/<id>` and `/locks`,
/// in the shapes of the contract (§3).
struct TaskController {
    let database: any Database
    let runner: TaskRunner

    /// The task types `bosh tasks` lists without `--all` (verbose=1).
    static let userFacingTypes: Set<String> = [
        "update_deployment", "delete_deployment", "update_release", "update_stemcell", "delete_release", "delete_stemcell",
        "run_errand", "snapshots", "attach_disk", "scan_and_fix", "restore_templates", "cck_scan", "cck_apply_resolutions", "fetch_logs",
    ]

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("tasks") { request, _ in try await controller.list(request) }
        router.get("tasks/:id") { _, context in Response.json(Self.json(try await controller.task(context))) }
        router.get("tasks/:id/output") { request, context in try await controller.output(request, context) }
        router.delete("task/:id") { _, context in try await controller.cancel(context) }
        router.get("locks") { _, _ in try await controller.locks() }
    }

    static func json(_ task: TaskRecord) -> JSONValue {
        [
            "id": .int(task.id ?? 0), "state": .string(task.state), "description": .string(task.description),
            "timestamp": .int(Int(task.timestamp)), "started_at": task.startedAt.map { .int(Int($0)) } ?? .null,
            "result": task.result.map(JSONValue.string) ?? .null, "user": .string(task.user),
            "deployment": task.deployment.map(JSONValue.string) ?? .null, "context_id": .string(task.contextID),
        ]
    }

    func list(_ request: Request) async throws -> Response {
        var query = TaskRecord.query(on: database).sort(\.$id, .descending)
        let parameters = request.uri.queryParameters
        if let states = parameters.get("state"), !states.isEmpty {
            query = query.filter(\.$state ~~ states.split(separator: ",").map(String.init))
        }
        if let deployment = parameters.get("deployment"), !deployment.isEmpty { query = query.filter(\.$deployment == deployment) }
        if parameters.get("verbose", as: Int.self) ?? 1 < 2 { query = query.filter(\.$type ~~ Array(Self.userFacingTypes)) }
        if let limit = parameters.get("limit", as: Int.self), limit > 0 { query = query.limit(limit) }
        return .json(.array(try await query.all().map(Self.json)))
    }

    func task(_ context: DirectorRequestContext) async throws -> TaskRecord {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int(text), let task = try await TaskRecord.find(id, on: database) else {
            throw DirectorError(.notFound, code: 10001, "Task \(text) not found")
        }
        return task
    }

    /// The output from the `Range: bytes=N-` offset on: 206 with the new bytes, 416 when there
    /// are none (the CLI polls this every half second and adds what it got to its offset).
    func output(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let task = try await task(context)
        let typeName = request.uri.queryParameters.get("type") ?? "debug"
        guard let kind = TaskOutput.Kind(rawValue: typeName) else {
            throw DirectorError(.badRequest, code: 10004, "Unknown task output type '\(typeName)'")
        }
        let offset = request.headers[.range].flatMap(Self.rangeStart)
        guard let (data, size) = runner.output(of: task.id!).read(kind, from: offset ?? 0) else {
            return offset == nil ? Response(status: .noContent)
                : Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */0"])
        }
        guard let offset else {
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        guard !data.isEmpty else { return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"]) }
        return Response(
            status: .partialContent, headers: [.contentType: "text/plain", .contentRange: "bytes \(offset)-\(size - 1)/\(size)"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `bytes=N-` → N (other range forms are not what the CLI sends).
    static func rangeStart(_ header: String) -> Int? {
        guard header.hasPrefix("bytes="), let dash = header.firstIndex(of: "-") else { return nil }
        return Int(header[header.index(header.startIndex, offsetBy: 6)..<dash])
    }

    func cancel(_ context: DirectorRequestContext) async throws -> Response {
        let task = try await task(context)
        guard try await runner.cancel(task.id!) else {
            throw DirectorError(.badRequest, code: 10002, "Cannot cancel task \(task.id!): invalid state (\(task.state))")
        }
        return Response(status: .noContent)
    }

    func locks() async throws -> Response {
        let locks = try await runner.locks.current().map { lock -> JSONValue in
            let resource = (try? JSONCoding.decoder.decode([String].self, from: Data(lock.resource.utf8))) ?? []
            return [
                "type": .string(lock.type), "resource": .array(resource.map(JSONValue.string)),
                "timeout": .string(String(format: "%.6f", lock.expiresAt)), "task_id": .string(String(lock.taskID)),
            ]
        }
        return .json(.array(locks))
    }
}
