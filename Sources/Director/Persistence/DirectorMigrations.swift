import FluentKit

/// Schema changes in order. A released migration is never edited: changes come as new ones.
enum DirectorMigrations {
    static var all: [any Migration] {
        [
            CreateTasks(), CreateLocks(), CreateEvents(), CreateConfigs(), CreateStemcells(), CreateReleases(),
            CreateDeployments(), CreateOrphanedVMs(), CreateOrphanedDisks(), AddCredentialColumns(),
            CreateDeploymentProblems(), CreateVariableSets(), CreateSharedLinks(), CreateErrandRuns(), CreateDNSBlobs(),
            CreateRenderedArchives(), AddDeploymentCloudConfigIDs(),
        ]
    }

    struct CreateReleases: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(ReleaseRecord.schema)
                .field("id", .int, .identifier(auto: true)).field("name", .string, .required).unique(on: "name")
                .create()
            try await database.schema(ReleaseVersionRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("release_id", .int, .required)
                .field("version", .string, .required)
                .field("commit_hash", .string, .required)
                .field("uncommitted_changes", .bool, .required)
                .field("package_ids", .string, .required)
                .field("template_ids", .string, .required)
                .field("created_at", .double, .required)
                .unique(on: "release_id", "version")
                .create()
            for schema in [PackageRecord.schema, TemplateRecord.schema] {
                try await database.schema(schema)
                    .field("id", .int, .identifier(auto: true))
                    .field("release_id", .int, .required)
                    .field("name", .string, .required)
                    .field("version", .string, .required)
                    .field("fingerprint", .string, .required)
                    .field("sha1", .string, .required)
                    .field("blobstore_id", .string, .required)
                    .field(schema == PackageRecord.schema ? "dependencies" : "spec", .string, .required)
                    .unique(on: "release_id", "name", "version")
                    .create()
            }
        }

        func revert(on database: any Database) async throws {
            for schema in [
                TemplateRecord.schema, PackageRecord.schema, ReleaseVersionRecord.schema, ReleaseRecord.schema,
            ] {
                try await database.schema(schema).delete()
            }
        }
    }

    struct CreateStemcells: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(StemcellRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("name", .string, .required)
                .field("version", .string, .required)
                .field("operating_system", .string, .required)
                .field("api_version", .int, .required)
                .field("cid", .string, .required)
                .field("cpi", .string, .required)
                .field("created_at", .double, .required)
                .unique(on: "name", "version", "cpi")
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(StemcellRecord.schema).delete()
        }
    }

    struct CreateTasks: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(TaskRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("state", .string, .required)
                .field("type", .string, .required)
                .field("description", .string, .required)
                .field("deployment", .string)
                .field("username", .string, .required)
                .field("result", .string)
                .field("context_id", .string, .required)
                .field("arguments", .string, .required)
                .field("created_at", .double, .required)
                .field("started_at", .double)
                .field("timestamp", .double, .required)
                .create()
        }

        func revert(on database: any Database) async throws { try await database.schema(TaskRecord.schema).delete() }
    }

    struct CreateLocks: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(LockRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("name", .string, .required)
                .field("type", .string, .required)
                .field("resource", .string, .required)
                .field("task_id", .int, .required)
                .field("expires_at", .double, .required)
                .unique(on: "name")
                .create()
        }

        func revert(on database: any Database) async throws { try await database.schema(LockRecord.schema).delete() }
    }

    struct CreateEvents: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(EventRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("parent_id", .int)
                .field("timestamp", .double, .required)
                .field("username", .string, .required)
                .field("action", .string, .required)
                .field("object_type", .string, .required)
                .field("object_name", .string)
                .field("task", .string)
                .field("deployment", .string)
                .field("instance", .string)
                .field("context", .string, .required)
                .field("error", .string)
                .create()
        }

        func revert(on database: any Database) async throws { try await database.schema(EventRecord.schema).delete() }
    }

    struct CreateConfigs: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(ConfigRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("type", .string, .required)
                .field("name", .string, .required)
                .field("content", .string, .required)
                .field("created_at", .double, .required)
                .field("team", .string)
                .field("deleted", .bool, .required)
                .create()
        }

        func revert(on database: any Database) async throws { try await database.schema(ConfigRecord.schema).delete() }
    }
}
