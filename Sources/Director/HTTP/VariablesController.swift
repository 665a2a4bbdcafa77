import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// A deployment's config server values, never their contents: `GET /deployments/<d>/variables`
/// (`bosh variables`: `[{id, name}]`), and `PUT /deployments/<d>/variables/regenerate` with
/// `{"names": [...]}` — new values for those variables (and the certificates their CAs sign),
/// rolled out by a deploy of the deployed manifest under its update policy.
struct VariablesController {
    let database: any Database
    let runner: TaskRunner
    let directorName: String

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("deployments/:name/variables") { _, context in try await controller.list(context.parameters.get("name") ?? "") }
        router.put("deployments/:name/variables/regenerate") { request, context in try await controller.regenerate(request, context) }
    }

    func deployment(_ name: String) async throws -> DeploymentRecord {
        try await DeploymentController(database: database, runner: runner).existing(name)
    }

    /// The latest deployed variable set's values; a deployment deployed before sets existed
    /// lists its current values.
    func list(_ name: String) async throws -> Response {
        _ = try await deployment(name)
        if let set = try await VariableSetRecord.current(of: name, on: database) {
            return .json(.array(set.values.sorted { $0.key < $1.key }.map { ["id": .string($0.value), "name": .string($0.key)] }))
        }
        let prefix = "/\(directorName)/\(name)/"
        let records = try await VariableRecord.query(on: database).named(under: prefix).sort(\.$name).all()
        return .json(.array(records.map { ["id": .string($0.valueID ?? String($0.id ?? 0)), "name": .string($0.name)] }))
    }

    func regenerate(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let record = try await deployment(name)
        guard !record.manifest.isEmpty else { throw DirectorError(.badRequest, code: 40_000, "Deployment '\(name)' was never deployed") }
        let body = try await request.body.collect(upTo: 1 << 20)
        let names = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body)))?["names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !names.isEmpty else { throw DirectorError(.badRequest, code: 40_000, "Name at least one variable to regenerate") }
        let generated = Dictionary(
            VariableRotation(manifestText: record.manifest).policies.filter { !$0.type.isEmpty }.map { ($0.name, $0.type) },
            uniquingKeysWith: { first, _ in first })
        let prefix = "/\(directorName)/\(name)/"
        let unknown = names.filter { generated[$0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0] == nil }
        guard unknown.isEmpty else {
            throw DirectorError(
                .badRequest, code: 40_000,
                "Deployment '\(name)' generates no variable named \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (its manifest's variables: with a type)")
        }
        let task = try await runner.enqueue(
            type: "update_deployment", description: "regenerate variables \(names.joined(separator: ", "))", user: context.user ?? "",
            deployment: name, arguments: ["manifest": .string(record.manifest), "regenerate": .array(names.map(JSONValue.string))])
        return Response.redirect(to: task)
    }
}
