import BosunCore
import FluentKit
import Foundation

/// Every value the config server ever stored, by its id, sealed: a value made anew does not
/// erase the one instances may still run with.
public final class VariableVersionRecord: Model, @unchecked Sendable {
    public static let schema = "variable_versions"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "name") public var name: String
    @Field(key: "value_id") public var valueID: String
    @Field(key: "sealed_value") public var sealedValue: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// A deploy's variable set (reference §5.5): which value (by id) of each variable the deploy
/// rendered with. `deployed` once the deploy succeeded; `bosun variables` shows the latest
/// deployed set, and each instance records the set its templates were rendered with.
public final class VariableSetRecord: Model, @unchecked Sendable {
    public static let schema = "variable_sets"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "deployment") public var deployment: String
    /// JSON `{full name: value id}`.
    @Field(key: "value_ids") public var valueIDs: String
    @Field(key: "deployed") public var deployed: Bool
    @Field(key: "created_at") public var createdAt: Double

    public init() {}

    var values: [String: String] {
        (try? JSONCoding.decoder.decode([String: String].self, from: Data(valueIDs.utf8))) ?? [:]
    }

    /// The latest set of a deployment that a deploy finished with.
    static func current(of deployment: String, on database: any Database) async throws -> VariableSetRecord? {
        try await query(on: database).filter(\.$deployment == deployment).filter(\.$deployed == true).sort(\.$id, .descending).first()
    }
}

extension DirectorMigrations {
    struct CreateVariableSets: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(VariableVersionRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("name", .string, .required)
                .field("value_id", .string, .required).unique(on: "value_id")
                .field("sealed_value", .string, .required)
                .field("created_at", .double, .required)
                .create()
            try await database.schema(VariableSetRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("deployment", .string, .required)
                .field("value_ids", .string, .required)
                .field("deployed", .bool, .required)
                .field("created_at", .double, .required)
                .create()
            try await database.schema(InstanceRecord.schema).field("variable_set_id", .int).update()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(InstanceRecord.schema).deleteField("variable_set_id").update()
            try await database.schema(VariableSetRecord.schema).delete()
            try await database.schema(VariableVersionRecord.schema).delete()
        }
    }
}
