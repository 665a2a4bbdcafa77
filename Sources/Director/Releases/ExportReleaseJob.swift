import Blobstore
import BosunCore
import FluentKit
import Foundation

/// `export_release` (`POST /releases/export`, `bosun export-release NAME/VERSION OS/VERSION`):
/// compiles every package of a release version for one stemcell — on the deployment's
/// compilation VMs, reusing what is compiled already — and packs a compiled release: its jobs,
/// `compiled_packages/<name>.tgz` and a `release.MF` listing `compiled_packages` with their
/// stemcell. The tarball is stored as a blob; the result output is `{"blobstore_id", "sha1"}`
/// (`GET /resources/<id>` downloads it). Arguments: `{deployment_name, release_name,
/// release_version, stemcell_os, stemcell_version}`.
struct ExportReleaseJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy else {
            throw DeployError("This director cannot compile: it has no agent bus configured")
        }
        guard let blobs = context.blobs else { throw DeployError("The director has no blobstore") }
        func argument(_ key: String) throws -> String {
            guard let value = context.arguments[key]?.stringValue, !value.isEmpty else {
                throw DeployError("export-release needs '\(key)'")
            }
            return value
        }
        let deploymentName = try argument("deployment_name"), releaseName = try argument("release_name")
        let releaseVersion = try argument("release_version")
        let os = try argument("stemcell_os"), stemcellVersion = try argument("stemcell_version")
        let database = context.database
        return try await context.withDeploymentLock(deploymentName) {
            guard
                let deployment = try await DeploymentRecord.query(on: database).filter(\.$name == deploymentName)
                    .first(), let deploymentID = deployment.id
            else { throw DeployError("Deployment '\(deploymentName)' doesn't exist") }
            guard
                let releaseRecord = try await ReleaseRecord.query(on: database).filter(\.$name == releaseName).first(),
                let version = try await ReleaseVersionRecord.query(on: database).filter(
                    \.$releaseID == releaseRecord.id!
                )
                .filter(\.$version == releaseVersion).first()
            else { throw DeployError("Release '\(releaseName)/\(releaseVersion)' doesn't exist") }
            guard
                let stemcell = try await StemcellRecord.query(on: database).filter(\.$operatingSystem == os)
                    .filter(\.$version == stemcellVersion).first()
            else {
                throw DeployError("Stemcell '\(os)/\(stemcellVersion)' is not uploaded: a release is compiled on it")
            }
            // Every cloud config read as one: the one with `compilation` says where to compile.
            let cloud = try await DeployConfigs.latest(on: database).cloudConfig()
            let release = try await DeploymentInputs.resolve(version, name: releaseName, on: database)

            let packages = release.packages.values.sorted { $0.name < $1.name }
            let compiled =
                try await CompileStage(
                    context: context, steps: VMSteps(context: context, environment: environment),
                    deploymentID: deploymentID, cloud: cloud
                ).run(packages.map { CompileStage.Need(package: $0, release: release, stemcell: stemcell) })[
                    stemcell.id!] ?? [:]

            let scratch = NSTemporaryDirectory() + "bosun-export-\(context.taskID)-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let tarball = scratch + ".tgz"
            defer { try? FileManager.default.removeItem(atPath: tarball) }
            try await context.events.step(
                stage: "Exporting release", task: "\(releaseName)/\(releaseVersion) for \(os)/\(stemcellVersion)"
            ) {
                for directory in ["jobs", "compiled_packages"] {
                    try FileManager.default.createDirectory(
                        atPath: scratch + "/" + directory, withIntermediateDirectories: true)
                }
                var packageEntries: [YAMLValue] = []
                for package in packages {
                    guard let id = package.id, let done = compiled[id] else {
                        throw DeployError("Package '\(package.name)' was not compiled")
                    }
                    try copy(
                        blob: done.blobstoreID, to: scratch + "/compiled_packages/\(package.name).tgz", blobs: blobs)
                    packageEntries.append(
                        .map([
                            "name": .string(package.name), "version": .string(package.version),
                            "fingerprint": .string(package.fingerprint),
                            "sha1": .string(done.sha1), "stemcell": .string("\(os)/\(stemcellVersion)"),
                            "dependencies": .array(release.dependencies(of: package).map(YAMLValue.string)),
                        ]))
                }
                var jobEntries: [YAMLValue] = []
                for job in release.jobs.values.sorted(by: { $0.name < $1.name }) {
                    try copy(blob: job.blobstoreID, to: scratch + "/jobs/\(job.name).tgz", blobs: blobs)
                    let uses = release.spec(ofJob: job.name)["packages"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    jobEntries.append(
                        .map([
                            "name": .string(job.name), "version": .string(job.version),
                            "fingerprint": .string(job.fingerprint),
                            "sha1": .string(job.sha1), "packages": .array(uses.map(YAMLValue.string)),
                        ]))
                }
                let manifest: YAMLValue = .map([
                    "name": .string(releaseName), "version": .string(releaseVersion),
                    "commit_hash": .string(version.commitHash),
                    "uncommitted_changes": .bool(version.uncommittedChanges), "jobs": .array(jobEntries),
                    "compiled_packages": .array(packageEntries),
                ])
                try manifest.yamlText().write(toFile: scratch + "/release.MF", atomically: true, encoding: .utf8)
                guard try await Tar.create(tarball, from: scratch) else {
                    throw DeployError("Packing the compiled release failed")
                }
            }
            let id = UUID().uuidString.lowercased()
            let sha1 = try await blobs.store(FileChunkSequence(path: tarball), as: id)
            try context.output.append(
                .result,
                try JSONCoding.string(["blobstore_id": .string(id), "sha1": .string(sha1)] as JSONValue) + "\n")
            try await context.recorder.record(
                user: context.user, action: "export", objectType: "release", objectName: releaseName,
                task: context.taskID,
                deployment: deploymentName,
                context: ["version": .string(releaseVersion), "stemcell": .string("\(os)/\(stemcellVersion)")])
            return id
        }
    }

    private func copy(blob id: String, to path: String, blobs: BlobStorage) throws {
        guard let source = blobs.path(of: id), FileManager.default.fileExists(atPath: source) else {
            throw DeployError("Blob \(id) is missing from the blobstore")
        }
        try FileManager.default.copyItem(atPath: source, toPath: path)
    }
}
