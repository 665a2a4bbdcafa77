import BosunCore
import FluentKit
import Foundation

/// A link one deployment shares with others (`provides: {name: {shared: true}}`), as it stood
/// after that deployment's last successful deploy. Consumers in other deployments
/// (`consumes: {name: {from: …, deployment: …}}`) read it when they render.
final class SharedLinkRecord: Model, @unchecked Sendable {
    static let schema = "shared_links"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "deployment_name") var deploymentName: String
    /// The name consumers use in `from` (the provider's alias).
    @Field(key: "name") var name: String
    @Field(key: "type") var type: String
    @Field(key: "instance_group") var group: String
    @Field(key: "job") var job: String
    /// The link as templates see it, JSON.
    @Field(key: "content") var content: String
    @Field(key: "updated_at") var updatedAt: Double

    init() {}
}

extension DirectorMigrations {
    struct CreateSharedLinks: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(SharedLinkRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("deployment_name", .string, .required)
                .field("name", .string, .required)
                .field("type", .string, .required)
                .field("instance_group", .string, .required)
                .field("job", .string, .required)
                .field("content", .string, .required)
                .field("updated_at", .double, .required)
                .unique(on: "deployment_name", "instance_group", "job", "name")
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(SharedLinkRecord.schema).delete()
        }
    }
}

enum SharedLinks {
    /// Every deployment's shared links, by deployment name, for a consumer's render.
    static func all(on database: any Database) async throws -> [String: [SharedLink]] {
        var result: [String: [SharedLink]] = [:]
        for record in try await SharedLinkRecord.query(on: database).all() {
            let value = try JSONCoding.decoder.decode(JSONValue.self, from: Data(record.content.utf8))
            result[record.deploymentName, default: []].append(
                SharedLink(name: record.name, type: record.type, group: record.group, job: record.job, value: value))
        }
        return result
    }

    /// Replaces what `deployment` shares, in the caller's transaction: a link no longer shared
    /// is withdrawn.
    static func replace(_ links: [SharedLink], of deployment: String, on database: any Database) async throws {
        try await forget(deployment, on: database)
        let now = Date().timeIntervalSince1970
        for link in links {
            let record = SharedLinkRecord()
            record.deploymentName = deployment
            record.name = link.name
            record.type = link.type
            record.group = link.group
            record.job = link.job
            record.content = try JSONCoding.string(link.value)
            record.updatedAt = now
            try await record.create(on: database)
        }
    }

    static func forget(_ deployment: String, on database: any Database) async throws {
        try await SharedLinkRecord.query(on: database).filter(\.$deploymentName == deployment).delete()
    }
}
