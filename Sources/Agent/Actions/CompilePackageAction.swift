import AgentProtocol
import Blobstore
import BosunCore
import Foundation

/// `compile_package(blobstore_id, sha1, name, version, deps)` (reference §7.3): on a compilation
/// VM, installs the dependencies, unpacks the source into `data/compile/<name>`, runs its
/// `packaging` script with `bash -x` and the `BOSH_*` variables, then packs what it installed and
/// uploads it. The reply is `{"result": {"blobstore_id", "sha1"}}`.
struct CompilePackageAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let source = BlobReference(
            name: try arguments.string(2, "name"), version: try arguments.string(3, "version"),
            sha1: try arguments.string(1, "sha1"), blobstoreID: try arguments.string(0, "blobstore_id"))
        let dependencies = try Self.dependencies(arguments.count > 4 ? arguments[4] : .null)
        return try await Self.compile(source, dependencies: dependencies, agent: agent, uploadURL: nil)
    }

    /// Compiles `source` (fetched through its `signedURL` when it has one) and stores the result in
    /// the blobstore, or at `uploadURL`.
    static func compile(
        _ source: BlobReference, dependencies: [BlobReference], agent: AgentContext, uploadURL: String?
    ) async throws
        -> JSONValue
    {
        try PackageInstaller.checkName(source.name, kind: "package")
        let paths = agent.paths
        let packages = agent.packageInstaller()

        // A compilation VM starts each package from a clean slate: only its dependencies installed.
        packages.prune(keeping: [])
        try await forEachConcurrently(dependencies, limit: agent.downloadParallelism) { try await packages.install($0) }
        for dependency in dependencies { try packages.enable(dependency) }

        let compileRoot = paths.data + "/compile"
        let compileDirectory = compileRoot + "/" + source.name
        let log = compileRoot + "/" + source.name + ".log"
        try? FileManager.default.removeItem(atPath: compileDirectory)
        unlink(log)
        defer { try? FileManager.default.removeItem(atPath: compileDirectory) }
        let blob = try await agent.blobFetcher().fetch(
            source.blobstoreID, digest: source.sha1, what: "package \(source.name) source", signedURL: source.signedURL)
        defer { blob.discard() }
        // An uncompressed source (`no_compression`) gives an uncompressed compiled package, as in BOSH.
        let gzip = TarArchive.isGzipped(blob.path)
        try await TarArchive.extract(blob.path, into: compileDirectory)
        guard FileManager.default.fileExists(atPath: compileDirectory + "/packaging") else {
            throw ActionError("Compiling package \(source.name): the source has no packaging script")
        }

        let installDirectory = packages.directory(of: source)
        try? FileManager.default.removeItem(atPath: installDirectory)
        try Filesystem.makeDirectory(installDirectory, mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: installDirectory) }
        try packages.enable(source)
        var environment = ProcessInfo.processInfo.environment
        environment["BOSH_COMPILE_TARGET"] = compileDirectory
        environment["BOSH_INSTALL_TARGET"] = paths.packages + "/" + source.name
        environment["BOSH_PACKAGE_NAME"] = source.name
        environment["BOSH_PACKAGE_VERSION"] = source.version
        environment["PATH"] = environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let status = await ProcessRunner.run(
            "/bin/bash", ["-x", "packaging"], environment: environment, stdoutFile: log, stderrFile: log,
            workingDirectory: compileDirectory)
        guard status == 0 else {
            throw ActionError(
                "Compiling package \(source.name): packaging exited with \(status). Last lines of its output:\n"
                    + ProcessRunner.tail(of: log, lines: 20))
        }

        let tarball = paths.data + "/tmp/compiled-" + UUID().uuidString.lowercased() + ".tgz"
        defer { unlink(tarball) }
        try await TarArchive.create(tarball, from: installDirectory, gzip: gzip)
        let compiled = try await agent.upload(tarball, what: "compiled package \(source.name)", signedURL: uploadURL)
        unlink(paths.packages + "/" + source.name)
        return ["result": ["blobstore_id": .string(compiled.id), "sha1": .string(compiled.sha1)]]
    }

    /// `deps`: `{<name>: {name, version, sha1, blobstore_id}}`, or null for none.
    static func dependencies(_ value: JSONValue) throws -> [BlobReference] {
        if value == .null { return [] }
        do {
            return try value.decode(as: [String: BlobReference].self).values.sorted { $0.name < $1.name }
        } catch let error as DecodingError {
            throw ActionError("Invalid compile_package dependencies: \(ApplySpecReader.describe(error))")
        }
    }
}

/// `compile_package_with_signed_url({package_get_signed_url, upload_signed_url, digest, name,
/// version, deps})`: `compile_package` for an agent without blobstore credentials — the source, each
/// dependency (`deps.<name>.package_get_signed_url`, as the Go agent reads it) and the result go through pre-signed URLs. The reply is the
/// same `{"result": {"blobstore_id", "sha1"}}`, the id being the upload URL's.
struct CompilePackageWithSignedURLAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let request = try arguments.object(0, "request")
        func string(_ key: String) throws -> String {
            guard let value = request[key]?.stringValue, !value.isEmpty else {
                throw ActionError("compile_package_with_signed_url: \(key) is required")
            }
            return value
        }
        let sourceURL = try string("package_get_signed_url")
        let source = BlobReference(
            name: try string("name"), version: try string("version"), sha1: try string("digest"),
            blobstoreID: DAVBlobstoreClient.blobName(sourceURL), signedURL: sourceURL)
        let dependencies = try CompilePackageAction.dependencies(request["deps"] ?? .null)
        return try await CompilePackageAction.compile(
            source, dependencies: dependencies, agent: agent, uploadURL: try string("upload_signed_url"))
    }
}
