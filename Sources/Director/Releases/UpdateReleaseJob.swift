import Blobstore
import BosunCore
import FluentKit
import Foundation

/// `update_release`: unpacks an uploaded release tarball, checks `release.MF` and every job and
/// package tarball's digest, reads each `job.MF` — all before anything is stored — then stores the
/// blobs and the records in one transaction. Packages and jobs the director already has (same
/// name and fingerprint) are reused, so a tarball may leave them out. A bad tarball stores nothing.
/// A compiled release (`compiled_packages`) stores compiled packages for its stemcell, with
/// package rows that have no source; uploaded for a release version the director already has
/// (same jobs and packages), it adds those compiled packages to it. `fix` (`upload-release
/// --fix`) takes a version the director has and replaces the blobs of its jobs and packages with
/// the uploaded ones (a corrupt or lost blob repaired); `rebase` uploads a release as the next dev
/// version after the director's latest (`0+dev.3` → `0+dev.4`), refused when nothing changed.
struct UpdateReleaseJob: TaskJob {
    struct Checked: Sendable {
        var entry: ReleaseManifest.Entry
        /// The tarball in the upload, or nil when an existing record is reused.
        var file: String?
        var existingID: Int?
        /// Compiled releases: the director already has this compiled package for the stemcell.
        var compiledExists = false
        /// `fix`: the blob the record held before the uploaded one replaced it.
        var replacedBlobstoreID: String?
        var blobstoreID: String?
        var spec: JSONValue = [:]

        /// The fields jobs and packages share.
        func fill(_ record: some ReleaseArtifactRecord, releaseID: Int) {
            record.releaseID = releaseID
            record.name = entry.name
            record.version = entry.version
            record.fingerprint = entry.fingerprint
            record.sha1 = entry.sha1
            record.blobstoreID = blobstoreID!
        }
    }

    func run(_ context: TaskContext) async throws -> String? {
        try await UploadedTarball.withUnpacked(
            context, stage: "Extracting release", step: "Extracting release", kind: "release"
        ) {
            try await create(context, staging: $0)
        }
    }

    private func create(_ context: TaskContext, staging: String) async throws -> String? {
        guard let blobs = context.blobs else {
            throw DirectorError(.internalServerError, code: 30_000, "The director has no blobstore")
        }
        guard let text = try? String(contentsOfFile: staging + "/release.MF", encoding: .utf8) else {
            throw DirectorError(.badRequest, code: 30_001, "Release has no release.MF")
        }
        var parsed = try ReleaseManifest(text: text)
        let database = context.database
        let fix = context.arguments["fix"] == .bool(true)
        let release = try await ReleaseRecord.query(on: database).filter(\.$name == parsed.name).first()
        if context.arguments["rebase"] == .bool(true), let release {
            let versions = try await ReleaseVersionRecord.query(on: database).filter(\.$releaseID == release.id!).all()
            if let latest = BOSHVersion.latest(versions.map(\.version)),
                let latestRecord = versions.first(where: { $0.version == latest })
            {
                if try await Self.differences(parsed, from: latestRecord, on: database).isEmpty {
                    throw DirectorError(
                        .badRequest, code: 30_009,
                        "Rebase is attempted without any job or package changes: '\(parsed.name)/\(latest)' has the same jobs and packages"
                    )
                }
                parsed.version = BOSHVersion.nextDev(after: latest)
                context.events.debug("Rebasing \(parsed.name) onto \(latest) as \(parsed.version)")
            }
        }
        let manifest = parsed
        var existingVersion: ReleaseVersionRecord?
        if let release,
            let found = try await ReleaseVersionRecord.query(on: database).filter(\.$releaseID == release.id!)
                .filter(\.$version == manifest.version).first()
        {
            // The same version again (pipelines upload the same tarball on every run): accepted
            // when it is the same commit, as BOSH does, its missing blobs filled in; refused with
            // BOSH's words when the commit differs.
            if !manifest.isCompiled && !fix
                && (found.commitHash != manifest.commitHash || found.uncommittedChanges != manifest.uncommittedChanges)
            {
                throw DirectorError(
                    .badRequest, code: 30_014,
                    "release '\(manifest.name)/\(manifest.version)' has already been uploaded with commit_hash as '\(found.commitHash)' "
                        + "and uncommitted_changes as '\(manifest.uncommittedChanges)'")
            }
            try await Self.checkSameContents(manifest, as: found, on: database)
            existingVersion = found
        }
        try await context.checkCancelled()

        var packages: [Checked] = []
        var jobs: [Checked] = []
        try await context.events.step(stage: "Verifying manifest", task: "Verifying manifest") {
            for entry in manifest.packages {
                var existing: PackageRecord?
                if let release {
                    existing = try await PackageRecord.query(on: database).filter(\.$releaseID == release.id!).filter(
                        \.$name == entry.name
                    )
                    .filter(\.$fingerprint == entry.fingerprint).first()
                }
                guard manifest.isCompiled else {
                    packages.append(
                        try await Self.check(
                            entry, kind: "packages", staging: staging,
                            existing: existing.map { ($0.id!, $0.blobstoreID) }))
                    continue
                }
                // Compiled: the blob is the compiled package; the package row may exist already.
                var compiledBefore: CompiledPackageRecord?
                if let id = existing?.id, let stemcell = entry.stemcell {
                    compiledBefore = try await CompiledPackageRecord.query(on: database).filter(\.$packageID == id)
                        .filter(\.$stemcellOS == stemcell.os).filter(\.$stemcellVersion == stemcell.version).first()
                }
                var checked = try await Self.check(
                    entry, kind: "compiled_packages", staging: staging,
                    existing: compiledBefore.map { ($0.packageID, $0.blobstoreID) })
                checked.existingID = existing?.id
                checked.compiledExists = compiledBefore != nil
                packages.append(checked)
            }
            for entry in manifest.jobs {
                var existing: TemplateRecord?
                if let release {
                    existing = try await TemplateRecord.query(on: database).filter(\.$releaseID == release.id!).filter(
                        \.$name == entry.name
                    )
                    .filter(\.$fingerprint == entry.fingerprint).first()
                }
                var checked = try await Self.check(
                    entry, kind: "jobs", staging: staging, existing: existing.map { ($0.id!, $0.blobstoreID) })
                if let file = checked.file { checked.spec = try await Self.jobSpec(file, job: entry.name) }
                jobs.append(checked)
            }
        }
        try await context.checkCancelled()

        // Everything checks out: store the new blobs, then all records at once.
        var stored: [String] = []
        do {
            try await context.events.step(
                stage: "Creating new packages and jobs", task: "\(manifest.name)/\(manifest.version)"
            ) {
                // A blob is stored only when no record already holds it (source package or job with
                // that fingerprint, compiled package for that stemcell).
                // With `fix`, every uploaded blob replaces the one its record holds.
                for index in packages.indices
                where packages[index].file != nil
                    && (fix
                        || (manifest.isCompiled ? !packages[index].compiledExists : packages[index].existingID == nil))
                {
                    if manifest.isCompiled ? packages[index].compiledExists : packages[index].existingID != nil {
                        packages[index].replacedBlobstoreID = packages[index].blobstoreID
                    }
                    packages[index].blobstoreID = try await Self.store(packages[index].file!, in: blobs)
                    stored.append(packages[index].blobstoreID!)
                }
                for index in jobs.indices where jobs[index].file != nil && (fix || jobs[index].existingID == nil) {
                    if jobs[index].existingID != nil { jobs[index].replacedBlobstoreID = jobs[index].blobstoreID }
                    jobs[index].blobstoreID = try await Self.store(jobs[index].file!, in: blobs)
                    stored.append(jobs[index].blobstoreID!)
                }
                let packages = packages, jobs = jobs, existingVersion = existingVersion
                try await database.transaction { database in
                    var found = try await ReleaseRecord.query(on: database).filter(\.$name == manifest.name).first()
                    if found == nil {
                        let created = ReleaseRecord(name: manifest.name)
                        try await created.create(on: database)
                        found = created
                    }
                    let owner = found!
                    var packageIDs: [Int] = [], templateIDs: [Int] = []
                    try await Self.repoint(packages: packages, jobs: jobs, compiled: manifest.isCompiled, on: database)
                    for package in packages {
                        if let id = package.existingID {
                            packageIDs.append(id)
                        } else {
                            let record = PackageRecord()
                            package.fill(record, releaseID: owner.id!)
                            if manifest.isCompiled {
                                // No source in a compiled release.
                                record.blobstoreID = ""
                                record.sha1 = ""
                            }
                            record.dependencies = String(
                                decoding: try JSONEncoder().encode(package.entry.names), as: UTF8.self)
                            try await record.create(on: database)
                            packageIDs.append(record.id!)
                        }
                        if manifest.isCompiled, !package.compiledExists, let stemcell = package.entry.stemcell {
                            let compiled = CompiledPackageRecord()
                            compiled.packageID = packageIDs.last!
                            compiled.stemcellOS = stemcell.os
                            compiled.stemcellVersion = stemcell.version
                            compiled.dependencyKey = CompileStage.dependencyKey(
                                manifest.dependencyClosure(of: package.entry.name).map { ($0.name, $0.version) })
                            compiled.blobstoreID = package.blobstoreID!
                            compiled.sha1 = package.entry.sha1
                            compiled.createdAt = Date().timeIntervalSince1970
                            try await compiled.create(on: database)
                        }
                    }
                    // A compiled upload of a version the director has adds compiled packages only.
                    if existingVersion != nil { return }
                    for job in jobs {
                        if let id = job.existingID { templateIDs.append(id); continue }
                        let record = TemplateRecord()
                        job.fill(record, releaseID: owner.id!)
                        record.spec = try JSONCoding.string(job.spec)
                        try await record.create(on: database)
                        templateIDs.append(record.id!)
                    }
                    let version = ReleaseVersionRecord()
                    version.releaseID = owner.id!
                    version.version = manifest.version
                    version.commitHash = manifest.commitHash
                    version.uncommittedChanges = manifest.uncommittedChanges
                    version.packageIDs = String(decoding: try JSONEncoder().encode(packageIDs), as: UTF8.self)
                    version.templateIDs = String(decoding: try JSONEncoder().encode(templateIDs), as: UTF8.self)
                    version.createdAt = Date().timeIntervalSince1970
                    try await version.create(on: database)
                }
            }
        } catch {
            for id in stored { blobs.remove(id) }
            throw error
        }
        // Blobs `fix` replaced are no one's any more.
        for id in (packages + jobs).compactMap(\.replacedBlobstoreID) where !id.isEmpty { blobs.remove(id) }
        try await context.recorder.record(
            user: context.user, action: "create", objectType: "release", objectName: manifest.name,
            task: context.taskID,
            context: ["version": .string(manifest.version)])
        if existingVersion != nil {
            return fix
                ? "Fixed release '\(manifest.name)/\(manifest.version)'"
                : "Added compiled packages to release '\(manifest.name)/\(manifest.version)'"
        }
        return "Created release '\(manifest.name)/\(manifest.version)'"
    }

    /// `fix`: records that keep their row get the blob uploaded in place of theirs.
    static func repoint(packages: [Checked], jobs: [Checked], compiled: Bool, on database: any Database) async throws {
        for package in packages where package.replacedBlobstoreID != nil {
            guard let id = package.existingID, let blob = package.blobstoreID else { continue }
            if compiled, let stemcell = package.entry.stemcell {
                for record in try await CompiledPackageRecord.query(on: database).filter(\.$packageID == id)
                    .filter(\.$stemcellOS == stemcell.os).filter(\.$stemcellVersion == stemcell.version).all()
                {
                    record.blobstoreID = blob
                    record.sha1 = package.entry.sha1
                    try await record.save(on: database)
                }
            } else if let record = try await PackageRecord.find(id, on: database) {
                record.blobstoreID = blob
                record.sha1 = package.entry.sha1
                try await record.save(on: database)
            }
        }
        for job in jobs where job.replacedBlobstoreID != nil {
            guard let id = job.existingID, let blob = job.blobstoreID,
                let record = try await TemplateRecord.find(id, on: database)
            else { continue }
            record.blobstoreID = blob
            record.sha1 = job.entry.sha1
            try await record.save(on: database)
        }
    }

    /// The jobs and packages (by name and fingerprint) that are in only one of the manifest and the
    /// stored version.
    static func differences(
        _ manifest: ReleaseManifest, from version: ReleaseVersionRecord, on database: any Database
    ) async throws -> [String] {
        let stored = try await DeploymentInputs.resolve(version, name: manifest.name, on: database)
        let have = Set(stored.packages.values.map { "\($0.name)/\($0.fingerprint)" }).union(
            stored.jobs.values.map { "job \($0.name)/\($0.fingerprint)" })
        let given = Set(manifest.packages.map { "\($0.name)/\($0.fingerprint)" }).union(
            manifest.jobs.map { "job \($0.name)/\($0.fingerprint)" })
        return have.symmetricDifference(given).sorted()
    }

    /// A compiled release, or a `fix`, for a version the director has must carry the same jobs and packages.
    static func checkSameContents(
        _ manifest: ReleaseManifest, as version: ReleaseVersionRecord, on database: any Database
    ) async throws {
        let differ = try await differences(manifest, from: version, on: database)
        guard differ.isEmpty else {
            throw DirectorError(
                .badRequest, code: 30_002,
                "Release '\(manifest.name)/\(manifest.version)' already exists with other jobs or packages (\(differ.joined(separator: ", ")))"
            )
        }
    }

    /// The tarball must be there with the digest `release.MF` gives, unless the director already has it.
    static func check(
        _ entry: ReleaseManifest.Entry, kind: String, staging: String, existing: (Int, String)?
    ) async throws -> Checked {
        let file = staging + "/\(kind)/\(entry.name).tgz"
        guard FileManager.default.fileExists(atPath: file) else {
            guard let (id, blobstoreID) = existing else {
                throw DirectorError(.badRequest, code: 30_003, "Release is missing \(kind)/\(entry.name).tgz")
            }
            return Checked(entry: entry, file: nil, existingID: id, blobstoreID: blobstoreID)
        }
        let digest: BlobDigest
        do {
            digest = try BlobDigest(entry.sha1)
        } catch {
            throw DirectorError(
                .badRequest, code: 30_001,
                "release.MF: \(kind) '\(entry.name)' has an invalid sha1: \(error.description)")
        }
        let actual = try await BlobFiles.digest(ofFileAt: file, algorithm: digest.strongest)
        guard actual == digest.digests[digest.strongest] else {
            throw DirectorError(
                .badRequest, code: 30_004,
                "\(kind)/\(entry.name).tgz has \(digest.strongest.rawValue) \(actual), release.MF says \(digest.digests[digest.strongest]!)"
            )
        }
        return Checked(entry: entry, file: file, existingID: existing?.0, blobstoreID: existing?.1)
    }

    /// `job.MF` out of a job tarball, as JSON (unpacked beside it with the same `Tar` as the
    /// release, then removed).
    static func jobSpec(_ file: String, job: String) async throws -> JSONValue {
        let directory = file + ".unpacked"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard try await Tar.extract(file, into: directory),
            let text = try? String(contentsOfFile: directory + "/job.MF", encoding: .utf8)
        else {
            throw DirectorError(.badRequest, code: 30_005, "Job '\(job)' has no job.MF")
        }
        do {
            let yaml = try YAMLValue.parse(text, source: "jobs/\(job)/job.MF")
            guard yaml["name"]?.stringValue == job else {
                throw DirectorError(.badRequest, code: 30_005, "jobs/\(job)/job.MF names a different job")
            }
            return JSONValue(yaml: yaml)
        } catch let error as YAMLSyntaxError {
            throw DirectorError(.badRequest, code: 30_005, error.description)
        }
    }

    static func store(_ file: String, in blobs: BlobStorage) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await blobs.store(FileChunkSequence(path: file), as: id)
        return id
    }
}
