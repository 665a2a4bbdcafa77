import BosunCore
import FluentKit
import Foundation

/// Records what happened for `GET /events`: every task, lock, upload and config change.
public struct EventRecorder: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    @discardableResult
    public func record(
        user: String, action: String, objectType: String, objectName: String? = nil, task: Int? = nil, deployment: String? = nil,
        instance: String? = nil, context: JSONValue = [:], error: String? = nil, parentID: Int? = nil
    ) async throws -> EventRecord {
        let event = EventRecord()
        event.timestamp = Date().timeIntervalSince1970
        event.user = user
        event.action = action
        event.objectType = objectType
        event.objectName = objectName
        event.task = task.map(String.init)
        event.deployment = deployment
        event.instance = instance
        event.context = try JSONCoding.string(context)
        event.error = error
        event.parentID = parentID
        try await event.create(on: database)
        return event
    }
}
