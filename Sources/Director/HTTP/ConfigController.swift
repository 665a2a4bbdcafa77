import BosunCore
import FluentKit
import Foundation
import Hummingbird
import NIOCore

/// `/configs` (typed, named, versioned) and the legacy `/cloud_configs`, `/runtime_configs` and
/// `/cpi_configs` routes the `update-cloud-config`-style commands use.
struct ConfigController {
    let store: ConfigStore

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("configs") { request, _ in try await controller.list(request) }
        router.get("configs/:id") { _, context in try await controller.show(context) }
        router.post("configs") { request, context in try await controller.create(request, context) }
        router.delete("configs") { request, context in try await controller.delete(request, context) }
        router.post("configs/diff") { request, _ in try await controller.diff(request) }
        for kind in ["cloud", "runtime", "cpi"] {
            router.get("\(kind)_configs") { request, _ in try await controller.legacyList(kind, request) }
            router.post("\(kind)_configs") { request, context in
                try await controller.legacyUpdate(kind, request, context)
            }
            router.post("\(kind)_configs/diff") { request, _ in try await controller.legacyDiff(kind, request) }
        }
    }

    static func timestamp(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func json(_ config: ConfigRecord, current: Bool) -> JSONValue {
        [
            "id": .string(String(config.id ?? 0)), "type": .string(config.type), "name": .string(config.name),
            "content": .string(config.content), "created_at": .string(timestamp(config.createdAt)),
            "team": config.team.map(JSONValue.string) ?? .null, "current": .bool(current),
        ]
    }

    static func body(_ request: Request) async throws -> String {
        try await request.yamlText(source: "config")
    }

    static func jsonBody(_ request: Request) async throws -> JSONValue {
        guard let value = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(try await body(request).utf8)),
            case .object = value
        else {
            throw DirectorError(.badRequest, code: 440_001, "Request body must be a JSON object")
        }
        return value
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let configs = try await store.list(
            type: query.get("type"), name: query.get("name"), latest: query.get("latest") == "true",
            limit: query.get("limit", as: Int.self))
        let current = try await store.currentIDs()
        return .json(.array(configs.map { Self.json($0, current: current.contains($0.id ?? -1)) }))
    }

    func show(_ context: DirectorRequestContext) async throws -> Response {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int(text), let config = try await ConfigRecord.find(id, on: store.database), !config.deleted
        else {
            throw DirectorError(.notFound, code: 440_012, "Config \(text) not found")
        }
        return .json(Self.json(config, current: try await store.currentIDs().contains(id)))
    }

    func create(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let body = try await Self.jsonBody(request)
        guard let type = body["type"]?.stringValue, let name = body["name"]?.stringValue,
            let content = body["content"]?.stringValue
        else {
            throw DirectorError(.badRequest, code: 440_001, "Config needs 'type', 'name' and 'content' strings")
        }
        var expected: Int?
        switch body["expected_latest_id"] {
        case .string(let text)?: expected = Int(text)
        case .int(let number)?: expected = number
        default: break
        }
        do {
            let (config, _) = try await store.update(
                type: type, name: name, content: content, user: context.user ?? "", expectedLatestID: expected)
            return .json(Self.json(config, current: true), status: .created)
        } catch let conflict as ConfigConflict {
            return .json(
                [
                    "latest_id": .string(String(conflict.latestID)),
                    "expected_latest_id": .string(String(conflict.expectedLatestID)),
                ],
                status: .preconditionFailed)
        }
    }

    func delete(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let type = query.get("type"), !type.isEmpty else {
            throw DirectorError(.badRequest, code: 440_001, "'type' is required to delete configs")
        }
        guard try await store.delete(type: type, name: query.get("name") ?? "default", user: context.user ?? "") else {
            throw DirectorError(.notFound, code: 440_012, "No config of type '\(type)' to delete")
        }
        return Response(status: .noContent)
    }

    /// `POST /configs/diff` in the two shapes bosh sends: `{"from": side, "to": side}` (`bosh
    /// diff-config`; a side is `{"id", "content"}`, an empty id meaning "this content"), or
    /// `{"type", "name", "content"}` against the current version (`bosh update-config`, which
    /// sends back `from.id` — "0" when there is none — as `expected_latest_id`).
    func diff(_ request: Request) async throws -> Response {
        let body = try await Self.jsonBody(request)
        if let from = body["from"], let to = body["to"] {
            let old = try await side(from, "from"), new = try await side(to, "to")
            return .json(["diff": .array(LineDiff.diff(from: old, to: new))])
        }
        guard let type = body["type"]?.stringValue, let content = body["content"]?.stringValue else {
            throw DirectorError(
                .badRequest, code: 440_010,
                "The following request formats are allowed: {\"from\": <config>, \"to\": <config>} where <config> is {\"id\": \"<id>\"} or {\"content\": \"<content>\"}; or {\"type\", \"name\", \"content\"}"
            )
        }
        try ConfigStore.validate(type: type, content: content)
        let old = try await store.latest(type: type, name: body["name"]?.stringValue ?? "default")
        return .json([
            "diff": .array(LineDiff.diff(from: old?.content ?? "", to: content)),
            "from": ["id": .string(String(old?.id ?? 0))],
        ])
    }

    /// One side of a diff-config: the content of config `id` (digits), else the content given.
    private func side(_ value: JSONValue, _ which: String) async throws -> String {
        if let text = value["id"]?.stringValue ?? value["id"]?.intValue.map(String.init), !text.isEmpty {
            guard let id = Int(text), let config = try await ConfigRecord.find(id, on: store.database), !config.deleted
            else {
                throw DirectorError(.notFound, code: 440_012, "Config \(text) not found")
            }
            return config.content
        }
        guard let content = value["content"]?.stringValue else {
            throw DirectorError(.badRequest, code: 440_010, "'\(which)' needs an 'id' or a 'content'")
        }
        return content
    }

    /// `GET /cloud_configs?limit=1&name=N` → `[{properties, created_at}]`, newest first.
    func legacyList(_ kind: String, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let configs = try await store.list(
            type: kind, name: Self.legacyName(request), latest: false, limit: query.get("limit", as: Int.self))
        return .json(
            .array(
                configs.map {
                    ["properties": .string($0.content), "created_at": .string(Self.timestamp($0.createdAt))]
                }))
    }

    func legacyUpdate(_ kind: String, _ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let name = Self.legacyName(request)
        _ = try await store.update(
            type: kind, name: name, content: try await Self.body(request), user: context.user ?? "")
        return .json([:], status: .created)
    }

    func legacyDiff(_ kind: String, _ request: Request) async throws -> Response {
        let content = try await Self.body(request)
        try ConfigStore.validate(type: kind, content: content)
        let old = try await store.latest(type: kind, name: Self.legacyName(request))
        return .json(["diff": .array(LineDiff.diff(from: old?.content ?? "", to: content))])
    }

    /// The CLI sends `?name=` (empty) for the unnamed config, which BOSH calls `default`.
    static func legacyName(_ request: Request) -> String {
        let name = request.uri.queryParameters.get("name") ?? ""
        return name.isEmpty ? "default" : name
    }
}
