import Blobstore
import BosunCore
import FluentKit
import Foundation
import Hummingbird

/// `POST /releases` (raw tarball → task), `GET /releases`, `POST /packages/matches`.
struct ReleaseController {
    let database: any Database
    let runner: TaskRunner
    let uploadsDirectory: String

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let controller = self
        router.post("releases") { request, context in try await controller.upload(request, context) }
        router.get("releases") { _, _ in try await controller.list() }
        router.post("packages/matches") { request, _ in try await controller.matches(request) }
        router.post("packages/matches_compiled") { request, _ in try await controller.matchesCompiled(request) }
        router.get("releases/:name") { request, context in try await controller.inspect(request, context) }
        router.post("releases/export") { request, context in try await controller.export(request, context) }
        router.delete("releases/:name") { request, context in
            let name = context.parameters.get("name") ?? ""
            let version = request.uri.queryParameters.get("version").flatMap { $0.isEmpty ? nil : $0 }
            let task = try await controller.runner.enqueue(
                type: "delete_release", description: "delete release: \(name)\(version.map { "/" + $0 } ?? "")", user: context.user ?? "",
                arguments: [
                    "name": .string(name), "version": version.map(JSONValue.string) ?? .null,
                    "force": .bool(request.uri.queryParameters.get("force") == "true"),
                ])
            return Response.redirect(to: task)
        }
    }

    /// `POST /releases/export` with bosh's JSON body `{deployment_name, release_name,
    /// release_version, stemcell_os, stemcell_version}` → an `export_release` task.
    func export(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let options = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body)) else {
            throw DirectorError(.badRequest, code: 40_000, "The export request body must be JSON")
        }
        var arguments: [String: JSONValue] = [:]
        for key in ["deployment_name", "release_name", "release_version", "stemcell_os", "stemcell_version"] {
            guard let value = options[key]?.stringValue, !value.isEmpty else {
                throw DirectorError(.badRequest, code: 40_000, "The export request needs '\(key)'")
            }
            arguments[key] = .string(value)
        }
        let task = try await runner.enqueue(
            type: "export_release", description: "export release", user: context.user ?? "",
            deployment: arguments["deployment_name"]?.stringValue, arguments: .object(arguments))
        return Response.redirect(to: task)
    }

    func upload(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        var arguments = try await UploadedTarball.receive(request, into: uploadsDirectory, kind: "release")
        let query = request.uri.queryParameters
        arguments["fix"] = .bool(query.get("fix") == "true")
        arguments["rebase"] = .bool(query.get("rebase") == "true")
        let task = try await runner.enqueue(
            type: "update_release", description: "create release", user: context.user ?? "", arguments: .object(arguments))
        return Response.redirect(to: task)
    }

    func list() async throws -> Response {
        var result: [JSONValue] = []
        for release in try await ReleaseRecord.query(on: database).sort(\.$name).all() {
            let versions = try await ReleaseVersionRecord.query(on: database).filter(\.$releaseID == release.id!).sort(\.$id).all()
            var entries: [JSONValue] = []
            for version in versions {
                let ids = (try? JSONDecoder().decode([Int].self, from: Data(version.templateIDs.utf8))) ?? []
                let names = try await TemplateRecord.query(on: database).filter(\.$id ~~ ids).all().map(\.name).sorted()
                entries.append([
                    "version": .string(version.version), "commit_hash": .string(version.commitHash),
                    "uncommitted_changes": .bool(version.uncommittedChanges), "currently_deployed": false,
                    "job_names": .array(names.map(JSONValue.string)),
                ])
            }
            result.append(["name": .string(release.name), "release_versions": .array(entries)])
        }
        return .json(.array(result))
    }

    /// `GET /releases/<name>?version=V`: the version's jobs and packages (`bosh inspect-release`).
    func inspect(_ request: Request, _ context: DirectorRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let version = request.uri.queryParameters.get("version"), !version.isEmpty else {
            throw DirectorError(.badRequest, code: 30_008, "A version is required to inspect release '\(name)'")
        }
        guard let release = try await ReleaseRecord.query(on: database).filter(\.$name == name).first(),
            let record = try await ReleaseVersionRecord.query(on: database).filter(\.$releaseID == release.id!).filter(\.$version == version).first()
        else { throw DirectorError(.notFound, code: 30_007, "Release version '\(name)/\(version)' doesn't exist") }
        func ids(_ text: String) -> [Int] { (try? JSONDecoder().decode([Int].self, from: Data(text.utf8))) ?? [] }
        let jobs = try await TemplateRecord.query(on: database).filter(\.$id ~~ ids(record.templateIDs)).sort(\.$name).all()
        let packages = try await PackageRecord.query(on: database).filter(\.$id ~~ ids(record.packageIDs)).sort(\.$name).all()
        let packageIDs = packages.compactMap(\.id)
        let compiled = packageIDs.isEmpty ? [] : try await CompiledPackageRecord.query(on: database).filter(\.$packageID ~~ packageIDs).all()
        return .json([
            "jobs": .array(jobs.map { job in
                let spec = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(job.spec.utf8))) ?? [:]
                return [
                    "name": .string(job.name), "fingerprint": .string(job.fingerprint), "blobstore_id": .string(job.blobstoreID),
                    "sha1": .string(job.sha1), "consumes": spec["consumes"] ?? [], "provides": spec["provides"] ?? [],
                ]
            }),
            "packages": .array(packages.map { package in
                [
                    "name": .string(package.name), "fingerprint": .string(package.fingerprint), "blobstore_id": .string(package.blobstoreID),
                    "sha1": .string(package.sha1),
                    "compiled_packages": .array(compiled.filter { $0.packageID == package.id }.map { compiled in
                        [
                            "stemcell": .string("\(compiled.stemcellOS)/\(compiled.stemcellVersion)"),
                            "blobstore_id": .string(compiled.blobstoreID), "sha1": .string(compiled.sha1),
                        ]
                    }),
                ]
            }),
        ])
    }

    /// The fingerprints, among those the release manifest in the body lists, that the director
    /// already has — the CLI leaves those packages out of the upload.
    func matches(_ request: Request) async throws -> Response {
        let text = try await ConfigController.body(request)
        guard let manifest = try? YAMLValue.parse(text, source: "release.MF"), case .array(let packages)? = manifest["packages"] else {
            return .json([])
        }
        let fingerprints = packages.compactMap { $0["fingerprint"]?.stringValue }
        let known = try await PackageRecord.query(on: database).filter(\.$fingerprint ~~ fingerprints).all().map(\.fingerprint)
        return .json(.array(Array(Set(known)).sorted().map(JSONValue.string)))
    }

    /// For a compiled release's manifest: the fingerprints of the compiled packages the director
    /// already has for their stemcell — the CLI leaves those out of the upload.
    func matchesCompiled(_ request: Request) async throws -> Response {
        let text = try await ConfigController.body(request)
        guard let manifest = try? ReleaseManifest(text: text), manifest.isCompiled else { return .json([]) }
        let packages = try await PackageRecord.query(on: database).filter(\.$fingerprint ~~ manifest.packages.map(\.fingerprint)).all()
        let ids = packages.compactMap(\.id)
        let compiled = ids.isEmpty ? [] : try await CompiledPackageRecord.query(on: database).filter(\.$packageID ~~ ids).all()
        let fingerprints = Dictionary(packages.compactMap { package in package.id.map { ($0, package.fingerprint) } }, uniquingKeysWith: { a, _ in a })
        let have = Set(compiled.compactMap { record in fingerprints[record.packageID].map { "\($0) \(record.stemcellOS)/\(record.stemcellVersion)" } })
        let known = manifest.packages.filter { entry in
            entry.stemcell.map { have.contains("\(entry.fingerprint) \($0.os)/\($0.version)") } ?? false
        }.map(\.fingerprint)
        return .json(.array(Set(known).sorted().map(JSONValue.string)))
    }
}
