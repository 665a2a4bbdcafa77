import FluentKit

extension DirectorMigrations {
    /// Deployments and everything a deploy records: instances, VMs, addresses, disks, compiled
    /// packages and variables.
    struct CreateDeployments: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(DeploymentRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("name", .string, .required).unique(on: "name")
                .field("manifest", .string, .required)
                .field("cloud_config_id", .int)
                .field("runtime_config_ids", .string, .required)
                .field("releases", .string, .required)
                .field("stemcells", .string, .required)
                .field("created_at", .double, .required)
                .create()
            try await database.schema(InstanceRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("deployment_id", .int, .required)
                .field("group_name", .string, .required)
                .field("instance_index", .int, .required)
                .field("uuid", .string, .required).unique(on: "uuid")
                .field("az", .string)
                .field("bootstrap", .bool, .required)
                .field("state", .string, .required)
                .field("configuration_hash", .string)
                .field("spec", .string)
                .field("created_at", .double, .required)
                .unique(on: "deployment_id", "group_name", "instance_index")
                .create()
            try await database.schema(VMRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("instance_id", .int)
                .field("deployment_id", .int, .required)
                .field("cid", .string)
                .field("agent_id", .string, .required).unique(on: "agent_id")
                .field("active", .bool, .required)
                .field("description", .string, .required)
                .field("created_at", .double, .required)
                .create()
            try await database.schema(IPAddressRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("address", .string, .required).unique(on: "address")
                .field("network", .string, .required)
                .field("deployment_id", .int, .required)
                .field("instance_id", .int)
                .field("vm_id", .int)
                .field("static", .bool, .required)
                .field("created_at", .double, .required)
                .create()
            try await database.schema(PersistentDiskRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("instance_id", .int, .required)
                .field("cid", .string)
                .field("size", .int, .required)
                .field("cloud_properties", .string, .required)
                .field("active", .bool, .required)
                .create()
            try await database.schema(CompiledPackageRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("package_id", .int, .required)
                .field("stemcell_os", .string, .required)
                .field("stemcell_version", .string, .required)
                .field("dependency_key", .string, .required)
                .field("blobstore_id", .string, .required)
                .field("sha1", .string, .required)
                .field("created_at", .double, .required)
                .unique(on: "package_id", "stemcell_os", "stemcell_version", "dependency_key")
                .create()
            try await database.schema(VariableRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("name", .string, .required).unique(on: "name")
                .field("sealed_value", .string, .required)
                .field("created_at", .double, .required)
                .create()
        }

        func revert(on database: any Database) async throws {
            for schema in [
                VariableRecord.schema, CompiledPackageRecord.schema, PersistentDiskRecord.schema,
                IPAddressRecord.schema,
                VMRecord.schema, InstanceRecord.schema, DeploymentRecord.schema,
            ] {
                try await database.schema(schema).delete()
            }
        }
    }
}

extension DirectorMigrations {
    /// Deployments remember every cloud config they were deployed with, not only `default`.
    struct AddDeploymentCloudConfigIDs: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(DeploymentRecord.schema).field("cloud_config_ids", .string).update()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(DeploymentRecord.schema).deleteField("cloud_config_ids").update()
        }
    }
}
