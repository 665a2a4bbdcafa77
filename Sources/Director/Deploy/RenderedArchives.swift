import FluentKit
import Foundation

/// A rendered-templates archive kept in the director's blobstore for a deployment's instances.
/// Archives hold the credentials the templates were rendered with, so each one is recorded
/// (before its blob is written) and deleted as soon as no instance's applied spec names it.
final class RenderedArchiveRecord: Model, @unchecked Sendable {
    static let schema = "rendered_archives"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "blobstore_id") var blobstoreID: String
    @Field(key: "deployment") var deployment: String
    @Field(key: "created_at") var createdAt: Double

    init() {}

    init(blobstoreID: String, deployment: String) {
        self.blobstoreID = blobstoreID
        self.deployment = deployment
        self.createdAt = Date().timeIntervalSince1970
    }
}

extension DirectorMigrations {
    struct CreateRenderedArchives: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(RenderedArchiveRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("blobstore_id", .string, .required).unique(on: "blobstore_id")
                .field("deployment", .string, .required)
                .field("created_at", .double, .required)
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(RenderedArchiveRecord.schema).delete()
        }
    }
}

/// When a deployment's rendered archives leave the blobstore: after a deploy that succeeded (the
/// archives it replaced), when the deployment is deleted (all of them), and on `clean-up`. Each
/// sweep runs under the deployment's lock, so no deploy is between storing an archive and
/// applying it.
enum RenderedArchives {
    static func record(_ blobstoreID: String, deployment: String, on database: any Database) async throws {
        try await RenderedArchiveRecord(blobstoreID: blobstoreID, deployment: deployment).create(on: database)
    }

    /// The recorded archives that none of `referenced` names, oldest first.
    static func unreferenced(_ recorded: [RenderedArchiveRecord], referenced: Set<String>) -> [RenderedArchiveRecord] {
        recorded.filter { !referenced.contains($0.blobstoreID) }.sorted { $0.createdAt < $1.createdAt }
    }

    /// Deletes the deployment's archives no instance's applied spec names (every one of them when
    /// the deployment is gone); returns how many. Call it holding the deployment's lock.
    @discardableResult
    static func sweep(_ deployment: String, context: TaskContext) async throws -> Int {
        guard let blobs = context.blobs else { return 0 }
        let recorded = try await RenderedArchiveRecord.query(on: context.database).filter(\.$deployment == deployment)
            .all()
        guard !recorded.isEmpty else { return 0 }
        // Only the instances' applied specs matter (none once the deployment is gone).
        var referenced = Set<String>()
        if let id = try await DeploymentRecord.query(on: context.database).filter(\.$name == deployment).first()?.id {
            let instances = try await InstanceRecord.query(on: context.database).filter(\.$deploymentID == id).all()
            referenced = Set(instances.compactMap { $0.appliedSpec?.renderedTemplatesArchive?.blobstoreID })
        }
        let unused = unreferenced(recorded, referenced: referenced)
        for archive in unused {
            _ = blobs.remove(archive.blobstoreID)
            try await archive.delete(on: context.database)
        }
        if !unused.isEmpty {
            context.events.debug(
                "Deleted \(unused.count) rendered template archive\(unused.count == 1 ? "" : "s") of '\(deployment)' no instance uses"
            )
        }
        return unused.count
    }

    /// `clean-up`: sweeps every deployment that has archives, skipping (and naming) those a task
    /// holds the lock of; their own deploy sweeps when it succeeds.
    static func sweepAll(context: TaskContext) async throws -> Int {
        let deployments = Set(try await RenderedArchiveRecord.query(on: context.database).all().map(\.deployment))
        var deleted = 0
        for deployment in deployments.sorted() {
            do {
                deleted += try await context.withDeploymentLock(deployment) {
                    try await sweep(deployment, context: context)
                }
            } catch let error as DirectorError where error.code == LockManager.conflictCode {
                context.events.debug("Rendered archives of '\(deployment)' kept for now: \(error.description)")
            }
        }
        return deleted
    }
}
