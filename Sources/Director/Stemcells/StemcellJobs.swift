import BosunCore
import CPI
import FluentKit
import Foundation

/// `update_stemcell`: unpacks an uploaded stemcell tarball, reads `stemcell.MF`, hands the image
/// to the CPI's `create_stemcell` and records the stemcell. The upload is removed either way.
struct UpdateStemcellJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        try await UploadedTarball.withUnpacked(context, stage: "Update stemcell", step: "Extracting stemcell archive", kind: "stemcell") {
            try await create(context, staging: $0)
        }
    }

    private func create(_ context: TaskContext, staging: String) async throws -> String? {
        let fix = context.arguments["fix"] == true
        let manifest = try StemcellManifest(path: staging + "/stemcell.MF")
        try await context.checkCancelled()
        let existing = try await StemcellRecord.query(on: context.database)
            .filter(\.$name == manifest.name).filter(\.$version == manifest.version).first()
        if existing != nil, !fix {
            throw DirectorError(.badRequest, code: 50_002, "Stemcell '\(manifest.name)/\(manifest.version)' already exists")
        }
        let cid = try await context.events.step(
            stage: "Update stemcell", task: "Uploading stemcell \(manifest.name)/\(manifest.version) to the cloud"
        ) { () async throws -> String in
            do {
                return try await context.cpi.createStemcell(imagePath: staging + "/image", cloudProperties: manifest.cloudProperties)
            } catch let error as CPIError {
                throw DirectorError(.internalServerError, code: 100, "CPI error '\(error.kind.rawValue)' with message '\(error.message)' in 'create_stemcell' CPI method")
            }
        }
        try await context.events.step(stage: "Update stemcell", task: "Save stemcell \(manifest.name)/\(manifest.version) (\(cid))") {
            let record = existing ?? StemcellRecord()
            let old = existing?.cid
            record.name = manifest.name
            record.version = manifest.version
            record.operatingSystem = manifest.operatingSystem
            record.apiVersion = manifest.apiVersion
            record.cid = cid
            record.cpi = ""
            record.createdAt = Date().timeIntervalSince1970
            try await record.save(on: context.database)
            if let old, old != cid { try? await context.cpi.deleteStemcell(old) }
        }
        try await context.recorder.record(
            user: context.user, action: "create", objectType: "stemcell", objectName: cid, task: context.taskID,
            context: ["name": .string(manifest.name), "version": .string(manifest.version)])
        return "/stemcells/\(manifest.name)/\(manifest.version)"
    }
}

/// `delete_stemcell`: the CPI's `delete_stemcell`, then the record. Refused while a deployment uses it.
struct DeleteStemcellJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        let name = context.arguments["name"]?.stringValue ?? "", version = context.arguments["version"]?.stringValue ?? ""
        guard let stemcell = try await StemcellRecord.query(on: context.database).filter(\.$name == name).filter(\.$version == version).first() else {
            throw DirectorError(.notFound, code: 50_003, "Stemcell '\(name)/\(version)' does not exist")
        }
        if context.arguments["force"] != .bool(true) {
            var users = try await InUse.deployments(using: name, versions: [version], kind: \.stemcells, on: context.database)
            // VMs made with it count too (a deploy that failed before it was recorded).
            let slug = "\(name)/\(version)"
            for vm in try await VMRecord.query(on: context.database).all()
            where (try? JSONCoding.decoder.decode(VMDescription.self, from: Data(vm.description.utf8)))?.stemcell == slug {
                if let deployment = try await DeploymentRecord.find(vm.deploymentID, on: context.database) { users.insert(deployment.name) }
            }
            guard users.isEmpty else {
                throw DirectorError(
                    .badRequest, code: 50_004,
                    "Stemcell '\(slug)' is still in use by: \(users.sorted().joined(separator: ", ")) (delete those deployments first, or use --force)")
            }
        }
        try await context.events.step(stage: "Deleting stemcell from cloud", task: "Delete stemcell") {
            do {
                try await context.cpi.deleteStemcell(stemcell.cid)
            } catch let error as CPIError {
                throw DirectorError(.internalServerError, code: 100, "CPI error '\(error.kind.rawValue)' with message '\(error.message)' in 'delete_stemcell' CPI method")
            }
        }
        try await context.events.step(stage: "Deleting stemcell metadata", task: "Deleting stemcell metadata") {
            try await stemcell.delete(on: context.database)
        }
        try await context.recorder.record(
            user: context.user, action: "delete", objectType: "stemcell", objectName: stemcell.cid, task: context.taskID,
            context: ["name": .string(name), "version": .string(version)])
        return "Deleted stemcell: \(name)/\(version)"
    }
}

/// What `stemcell.MF` says: `name`, `version`, `operating_system`, `api_version`, `cloud_properties`.
struct StemcellManifest {
    var name: String
    var version: String
    var operatingSystem: String
    var apiVersion: Int
    var cloudProperties: JSONValue

    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DirectorError(.badRequest, code: 50_001, "Stemcell has no stemcell.MF")
        }
        let yaml: YAMLValue
        do {
            yaml = try YAMLValue.parse(text, source: "stemcell.MF")
        } catch {
            throw DirectorError(.badRequest, code: 50_001, "stemcell.MF: \(error.message)")
        }
        guard let name = yaml["name"]?.stringValue, !name.isEmpty else { throw DirectorError(.badRequest, code: 50_001, "stemcell.MF: name is required") }
        guard let version = yaml["version"].map(\.goDisplayString), !version.isEmpty, version != "<nil>" else {
            throw DirectorError(.badRequest, code: 50_001, "stemcell.MF: version is required")
        }
        self.name = name
        self.version = version
        operatingSystem = yaml["operating_system"]?.stringValue ?? ""
        if case .int(let api)? = yaml["api_version"] { apiVersion = api } else { apiVersion = 1 }
        cloudProperties = JSONValue(yaml: yaml["cloud_properties"] ?? [:])
    }
}

/// The system's tar, as BOSH's director uses it for uploads.
enum Tar {
    static func extract(_ tarball: String, into directory: String) async throws -> Bool {
        try await run(["--no-same-owner", "-xf", tarball, "-C", directory])
    }

    /// A gzipped tarball of everything in `directory` (paths relative to it).
    static func create(_ tarball: String, from directory: String) async throws -> Bool {
        try await run(["-czf", tarball, "-C", directory, "."])
    }

    private static func run(_ arguments: [String]) async throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus == 0) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }
}
