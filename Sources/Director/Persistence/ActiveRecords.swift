import FluentKit

extension VMRecord {
    /// The instance's active VM (during a swap an inactive one may exist beside it).
    static func active(of instanceID: Int, on database: any Database) async throws -> VMRecord? {
        try await query(on: database).filter(\.$instanceID == instanceID).filter(\.$active == true).first()
    }
}

extension PersistentDiskRecord {
    /// The instance's active persistent disk (an inactive one may wait to be migrated from).
    static func active(of instanceID: Int, on database: any Database) async throws -> PersistentDiskRecord? {
        try await query(on: database).filter(\.$instanceID == instanceID).filter(\.$active == true).first()
    }
}
