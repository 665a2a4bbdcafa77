import FluentKit

/// A VM no instance uses any more (the old VM of a create-swap-delete), kept until the
/// scheduled cleanup or `clean-up` deletes it through the CPI. Addresses it still holds stay
/// reserved (`ip_addresses.orphaned_vm_id`) until then.
public final class OrphanedVMRecord: Model, @unchecked Sendable {
    public static let schema = "orphaned_vms"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "cid") public var cid: String
    @Field(key: "deployment_name") public var deploymentName: String
    /// `group/uuid` of the instance it served.
    @Field(key: "instance_name") public var instanceName: String
    @OptionalField(key: "az") public var az: String?
    /// JSON `VMDescription` it was created with.
    @Field(key: "description") public var description: String
    @Field(key: "orphaned_at") public var orphanedAt: Double
    /// The last cleanup error, shown by `orphaned-vms` until a later round succeeds.
    @OptionalField(key: "last_error") public var lastError: String?

    public init() {}
}

extension DirectorMigrations {
    struct CreateOrphanedVMs: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(OrphanedVMRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("cid", .string, .required).unique(on: "cid")
                .field("deployment_name", .string, .required)
                .field("instance_name", .string, .required)
                .field("az", .string)
                .field("description", .string, .required)
                .field("orphaned_at", .double, .required)
                .field("last_error", .string)
                .create()
            try await database.schema(IPAddressRecord.schema).field("orphaned_vm_id", .int).update()
            try await database.schema(VMRecord.schema).field("swap_state", .string).update()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(VMRecord.schema).deleteField("swap_state").update()
            try await database.schema(IPAddressRecord.schema).deleteField("orphaned_vm_id").update()
            try await database.schema(OrphanedVMRecord.schema).delete()
        }
    }
}
