import FluentKit

extension TaskRecord {
    /// Tasks of `type` that are queued or running (of one deployment when given): what the
    /// director's own schedulers check before queueing another.
    static func open(_ type: String, deployment: String? = nil, on database: any Database) async throws -> [TaskRecord] {
        var query = TaskRecord.query(on: database).filter(\.$type == type).filter(\.$state ~~ ["queued", "processing"])
        if let deployment { query = query.filter(\.$deployment == deployment) }
        return try await query.all()
    }
}
