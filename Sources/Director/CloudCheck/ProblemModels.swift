import FluentKit

/// A problem a cloud check found (`GET /deployments/<d>/problems`): open until resolved, ignored
/// or closed by the next scan.
public final class DeploymentProblemRecord: Model, @unchecked Sendable {
    public static let schema = "deployment_problems"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "deployment_id") public var deploymentID: Int
    /// `missing_vm`, `unresponsive_agent`, `mount_info_mismatch`, `missing_disk`.
    @Field(key: "type") public var type: String
    @Field(key: "instance_uuid") public var instanceUUID: String
    @OptionalField(key: "vm_cid") public var vmCID: String?
    @OptionalField(key: "disk_cid") public var diskCID: String?
    @Field(key: "description") public var description: String
    /// `open`, `resolved`, `ignored` or `closed` (a later scan no longer found it).
    @Field(key: "state") public var state: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

extension DirectorMigrations {
    struct CreateDeploymentProblems: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(DeploymentProblemRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("deployment_id", .int, .required)
                .field("type", .string, .required)
                .field("instance_uuid", .string, .required)
                .field("vm_cid", .string)
                .field("disk_cid", .string)
                .field("description", .string, .required)
                .field("state", .string, .required)
                .field("created_at", .double, .required)
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(DeploymentProblemRecord.schema).delete()
        }
    }
}
