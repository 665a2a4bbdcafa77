import FluentKit

/// A persistent disk no instance uses any more — its instance was deleted (scale-down, a dropped
/// group, `delete-deployment`) or it was replaced by a bigger or different one — kept so its data
/// can be attached again (`attach-disk`) until `delete-disk`, `clean-up --all` or the scheduled
/// cleanup (after `disks.max_orphaned_age_in_days`) deletes it.
public final class OrphanedDiskRecord: Model, @unchecked Sendable {
    public static let schema = "orphaned_disks"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "cid") public var cid: String
    @Field(key: "size") public var sizeMB: Int
    @Field(key: "cloud_properties") public var cloudProperties: String
    @Field(key: "deployment_name") public var deploymentName: String
    /// `group/uuid` of the instance it belonged to.
    @Field(key: "instance_name") public var instanceName: String
    @OptionalField(key: "az") public var az: String?
    @Field(key: "orphaned_at") public var orphanedAt: Double

    public init() {}
}

extension DirectorMigrations {
    struct CreateOrphanedDisks: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(OrphanedDiskRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("cid", .string, .required).unique(on: "cid")
                .field("size", .int, .required)
                .field("cloud_properties", .string, .required)
                .field("deployment_name", .string, .required)
                .field("instance_name", .string, .required)
                .field("az", .string)
                .field("orphaned_at", .double, .required)
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(OrphanedDiskRecord.schema).delete()
        }
    }
}
