import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// `GET /events` (newest first, at most 200, with the CLI's filters) and `GET /events/<id>`.
struct EventController {
    let database: any Database

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.get("events") { request, _ in try await controller.list(request) }
        router.get("events/:id") { _, context in
            let text = context.parameters.get("id") ?? ""
            guard let id = Int(text), let event = try await EventRecord.find(id, on: controller.database) else {
                throw DirectorError(.notFound, code: 10_010, "Event \(text) not found")
            }
            return Response.json(Self.json(event))
        }
    }

    static func json(_ event: EventRecord) -> JSONValue {
        let context = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(event.context.utf8))) ?? [:]
        return [
            "id": .string(String(event.id ?? 0)), "parent_id": event.parentID.map { .string(String($0)) } ?? .null,
            "timestamp": .int(Int(event.timestamp)), "user": .string(event.user), "action": .string(event.action),
            "object_type": .string(event.objectType), "object_name": event.objectName.map(JSONValue.string) ?? .null,
            "task": event.task.map(JSONValue.string) ?? .null, "deployment": event.deployment.map(JSONValue.string) ?? .null,
            "instance": event.instance.map(JSONValue.string) ?? .null, "context": context,
            "error": event.error.map(JSONValue.string) ?? .null,
        ]
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var events = EventRecord.query(on: database).sort(\.$id, .descending).limit(200)
        if let id = query.get("before_id", as: Int.self) { events = events.filter(\.$id < id) }
        if let time = query.get("before_time").flatMap(Self.seconds) { events = events.filter(\.$timestamp < time) }
        if let time = query.get("after_time").flatMap(Self.seconds) { events = events.filter(\.$timestamp > time) }
        for (parameter, field) in [("deployment", \EventRecord.$deployment), ("instance", \.$instance), ("task", \.$task), ("object_name", \.$objectName)] {
            if let value = query.get(parameter), !value.isEmpty { events = events.filter(field == value) }
        }
        for (parameter, field) in [("user", \EventRecord.$user), ("action", \.$action), ("object_type", \.$objectType)] {
            if let value = query.get(parameter), !value.isEmpty { events = events.filter(field == value) }
        }
        return .json(.array(try await events.all().map(Self.json)))
    }

    /// Unix seconds, or a date as the CLI passes it (RFC 3339 / "2006-01-02 15:04:05 -0700").
    static func seconds(_ text: String) -> Double? {
        if let number = Double(text) { return number }
        if let date = ISO8601DateFormatter().date(from: text) { return date.timeIntervalSince1970 }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        return formatter.date(from: text)?.timeIntervalSince1970
    }
}
