import FluentKit

extension DirectorMigrations {
    /// Issue 9's columns: each instance's rendered templates, sealed, for re-delivery after a
    /// tmpfs VM reboots; per variable value an id (what `bosun variables` lists), the digest of
    /// the options it was generated with (`update_mode: converge`) and the stemcells then in use
    /// (`update.strategy: on-stemcell-change`).
    struct AddCredentialColumns: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(InstanceRecord.schema).field("sealed_templates", .string).update()
            try await database.schema(VariableRecord.schema).field("value_id", .string).update()
            try await database.schema(VariableRecord.schema).field("options_digest", .string).update()
            try await database.schema(VariableRecord.schema).field("stemcells", .string).update()
        }

        func revert(on database: any Database) async throws {
            for field: FieldKey in ["stemcells", "options_digest", "value_id"] {
                try await database.schema(VariableRecord.schema).deleteField(field).update()
            }
            try await database.schema(InstanceRecord.schema).deleteField("sealed_templates").update()
        }
    }
}
