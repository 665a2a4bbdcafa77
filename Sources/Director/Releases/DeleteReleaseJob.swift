import BosunCore
import FluentKit
import Foundation

/// `delete_release`: one version (`version` given) or the whole release. Jobs and packages no
/// remaining version uses are deleted with their blobs; the records go first, in one transaction,
/// so a crash can leave an unreferenced blob but never a record without its blob.
struct DeleteReleaseJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let name = context.arguments["name"]?.stringValue ?? ""
        let version = context.arguments["version"]?.stringValue
        let database = context.database
        guard let release = try await ReleaseRecord.query(on: database).filter(\.$name == name).first() else {
            throw DirectorError(.notFound, code: 30_006, "Release '\(name)' doesn't exist")
        }
        let versions = try await ReleaseVersionRecord.query(on: database).filter(\.$releaseID == release.id!).all()
        let doomed = version.map { wanted in versions.filter { $0.version == wanted } } ?? versions
        guard !doomed.isEmpty else { throw DirectorError(.notFound, code: 30_007, "Release version '\(name)/\(version ?? "")' doesn't exist") }
        if context.arguments["force"] != .bool(true) {
            let users = try await InUse.deployments(using: name, versions: Set(doomed.map(\.version)), kind: \.releases, on: database)
            guard users.isEmpty else {
                throw DirectorError(
                    .badRequest, code: 30_008,
                    "Release '\(name)\(version.map { "/" + $0 } ?? "")' is still in use by: \(users.sorted().joined(separator: ", ")) (delete those deployments first, or use --force)")
            }
        }
        let kept = versions.filter { version in !doomed.contains { $0.id == version.id } }
        func ids(_ text: String) -> Set<Int> { Set((try? JSONDecoder().decode([Int].self, from: Data(text.utf8))) ?? []) }
        let keptPackages = kept.reduce(into: Set<Int>()) { $0.formUnion(ids($1.packageIDs)) }
        let keptTemplates = kept.reduce(into: Set<Int>()) { $0.formUnion(ids($1.templateIDs)) }
        let packageIDs = doomed.reduce(into: Set<Int>()) { $0.formUnion(ids($1.packageIDs)) }.subtracting(keptPackages)
        let templateIDs = doomed.reduce(into: Set<Int>()) { $0.formUnion(ids($1.templateIDs)) }.subtracting(keptTemplates)
        let packages = try await PackageRecord.query(on: database).filter(\.$id ~~ Array(packageIDs)).all()
        let templates = try await TemplateRecord.query(on: database).filter(\.$id ~~ Array(templateIDs)).all()
        let compiled = packageIDs.isEmpty ? [] : try await CompiledPackageRecord.query(on: database).filter(\.$packageID ~~ Array(packageIDs)).all()
        let blobIDs = (packages.map(\.blobstoreID) + templates.map(\.blobstoreID) + compiled.map(\.blobstoreID)).filter { !$0.isEmpty }

        try await context.events.step(stage: "Deleting release", task: version.map { "\(name)/\($0)" } ?? name) {
            try await database.transaction { database in
                for record in doomed { try await record.delete(on: database) }
                for record in compiled { try await record.delete(on: database) }
                for record in packages { try await record.delete(on: database) }
                for record in templates { try await record.delete(on: database) }
                if kept.isEmpty { try await release.delete(on: database) }
            }
            for id in blobIDs { context.blobs?.remove(id) }
        }
        try await context.recorder.record(
            user: context.user, action: "delete", objectType: "release", objectName: name, task: context.taskID,
            context: version.map { ["version": .string($0)] } ?? [:])
        return "Deleted release '\(name)\(version.map { "/" + $0 } ?? "")'"
    }
}
