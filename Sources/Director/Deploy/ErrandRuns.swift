import FluentKit
import Foundation

/// The last run of an errand on one instance (`group/index`): with what configuration (the
/// instance's configuration hash: rendered templates, job and package versions) and how it
/// ended. `run-errand --when-changed` skips an errand whose every instance last ran it
/// successfully with the configuration it has now.
final class ErrandRunRecord: Model, @unchecked Sendable {
    static let schema = "errand_runs"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "deployment_name") var deploymentName: String
    @Field(key: "errand_name") var errandName: String
    /// `group/index`: stable for errand groups whose VMs (and instance rows) come and go.
    @Field(key: "instance") var instance: String
    @Field(key: "configuration_hash") var configurationHash: String
    @Field(key: "exit_code") var exitCode: Int
    @Field(key: "ran_at") var ranAt: Double

    init() {}
}

extension DirectorMigrations {
    struct CreateErrandRuns: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(ErrandRunRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("deployment_name", .string, .required)
                .field("errand_name", .string, .required)
                .field("instance", .string, .required)
                .field("configuration_hash", .string, .required)
                .field("exit_code", .int, .required)
                .field("ran_at", .double, .required)
                .unique(on: "deployment_name", "errand_name", "instance")
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(ErrandRunRecord.schema).delete()
        }
    }
}

enum ErrandRuns {
    /// Keeps how `errand` ended on `instance` (`group/index`), replacing the earlier run.
    static func record(
        deployment: String, errand: String, instance: String, configurationHash: String, exitCode: Int, on database: any Database
    ) async throws {
        let existing = try await ErrandRunRecord.query(on: database)
            .filter(\.$deploymentName == deployment).filter(\.$errandName == errand).filter(\.$instance == instance).first()
        let run = existing ?? ErrandRunRecord()
        run.deploymentName = deployment
        run.errandName = errand
        run.instance = instance
        run.configurationHash = configurationHash
        run.exitCode = exitCode
        run.ranAt = Date().timeIntervalSince1970
        try await run.save(on: database)
    }

    /// True when every instance (`group/index` → its configuration hash now) last ran `errand`
    /// successfully with that very configuration.
    static func unchanged(deployment: String, errand: String, instances: [String: String], on database: any Database) async throws -> Bool {
        guard !instances.isEmpty else { return false }
        let runs = try await ErrandRunRecord.query(on: database)
            .filter(\.$deploymentName == deployment).filter(\.$errandName == errand).all()
        let last = Dictionary(runs.map { ($0.instance, $0) }, uniquingKeysWith: { first, _ in first })
        return instances.allSatisfy { instance, hash in
            guard let run = last[instance] else { return false }
            return run.exitCode == 0 && run.configurationHash == hash
        }
    }

    static func forget(_ deployment: String, on database: any Database) async throws {
        try await ErrandRunRecord.query(on: database).filter(\.$deploymentName == deployment).delete()
    }
}
