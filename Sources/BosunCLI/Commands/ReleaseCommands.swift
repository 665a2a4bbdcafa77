import ArgumentParser
import BosunCore
import Crypto
import Foundation

/// `bosun upload-release FILE`: skips a release version the director has (for a compiled
/// release: has compiled for its stemcell), else uploads the tarball and follows the task.
struct UploadReleaseCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload-release", abstract: "Upload release", aliases: ["ur"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Path to a release tarball, or an http(s) URL the director downloads it from") var file: String
    @Flag(
        name: .long, help: "Replace the blobs of a release version the director has (repairs corrupt or missing ones)")
    var fix = false
    @Flag(name: .long, help: "Upload as the next dev version after the director's latest") var rebase = false
    @Option(name: .long, help: "SHA-1 (or sha256:…) the downloaded release must have (URLs only)") var sha1: String?

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        if Self.isRemote(file) {
            return try await uploadRemoteAndFollow(
                file, sha1: sha1, to: "/releases", fix: fix, client: client, output: output)
        }
        let (name, version) = try TarballManifest.nameAndVersion(file, member: "release.MF", what: "release")
        if !fix && !rebase {
            let releases = try await client.json(.GET, "/releases").arrayValue ?? []
            let known = releases.first { $0["name"]?.stringValue == name }?["release_versions"]?.arrayValue ?? []
            if known.contains(where: { $0["version"]?.stringValue == version }) {
                // A compiled release still adds what the director lacks for its stemcell.
                let manifest = try TarballManifest.read(file, member: "release.MF", what: "release")
                let compiled =
                    manifest["compiled_packages"]?.arrayValue?.compactMap { $0["fingerprint"]?.stringValue } ?? []
                let matched =
                    compiled.isEmpty
                    ? []
                    : try await client.json(
                        .POST, "/packages/matches_compiled", body: Data(manifest.yamlText().utf8),
                        contentType: "text/yaml"
                    ).arrayValue?.compactMap(\.stringValue) ?? []
                if Set(compiled).isSubset(of: Set(matched)) {
                    output.line("Release '\(name)/\(version)' already exists.")
                    return
                }
            }
        }
        try await uploadAndFollow(
            file, what: "release", to: "/releases", fix: fix, rebase: rebase, client: client, output: output)
    }
}

/// `bosun releases`.
struct ReleasesCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "releases", abstract: "List releases", aliases: ["rs"])
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        var rows: [[String]] = []
        for release in try await client.json(.GET, "/releases").arrayValue ?? [] {
            for version in (release["release_versions"]?.arrayValue ?? []).reversed() {
                let marks =
                    (version["currently_deployed"] == true ? "*" : "")
                    + (version["uncommitted_changes"] == true ? "+" : "")
                rows.append([
                    release["name"]?.cell ?? "", (version["version"]?.cell ?? "") + marks,
                    version["commit_hash"]?.cell ?? "",
                ])
            }
        }
        output.table(
            "releases", columns: ["Name", "Version", "Commit Hash"], rows: rows,
            notes: ["(*) Currently deployed", "(+) Uncommitted changes"])
    }
}

/// A YAML manifest (`release.MF`, `stemcell.MF`) read out of a tarball with the system's tar,
/// whether the tarball names it `release.MF` (the official CLI) or `./release.MF`.
enum TarballManifest {
    /// `name` and `version` of the manifest, which both uploads need.
    static func nameAndVersion(_ file: String, member: String, what: String) throws(CommandFailure) -> (String, String)
    {
        let manifest = try read(file, member: member, what: what)
        guard let name = manifest["name"]?.stringValue, let version = manifest["version"].map(\.goDisplayString) else {
            throw CommandFailure(message: "Extracting \(what): \(member) needs a name and a version")
        }
        return (name, version)
    }

    static func read(_ file: String, member: String, what: String) throws(CommandFailure) -> YAMLValue {
        guard FileManager.default.fileExists(atPath: file) else {
            throw CommandFailure(message: "Reading \(what) '\(file)': no such file")
        }
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-xzOf", file, "--wildcards", "*" + member]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw CommandFailure(message: "Running tar: \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure(message: "Extracting \(what): '\(file)' has no \(member)")
        }
        do {
            return try YAMLValue.parse(String(decoding: data, as: UTF8.self), source: member)
        } catch {
            throw CommandFailure(message: "Extracting \(what): \(error)")
        }
    }
}

/// `bosun delete-release NAME[/VERSION]`.
struct DeleteReleaseCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-release", abstract: "Delete release", aliases: ["delr"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Name or name/version") var release: String
    @Flag(name: .long, help: "Delete even when a deployment uses it") var force = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let parts = release.split(separator: "/", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else {
            throw CommandFailure(message: "Expected release name or name/version")
        }
        try confirm(output)
        let query = Self.query([("version", parts.count > 1 ? parts[1] : nil), ("force", force ? "true" : nil)])
        let id = try await client.startTask(.DELETE, "/releases/\(name)" + query)
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

/// `bosun inspect-release NAME/VERSION`: the version's jobs and packages with their blobs.
struct InspectReleaseCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-release", abstract: "List release contents such as jobs")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Name/version") var release: String

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let parts = release.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw CommandFailure(message: "Expected release slug in the form 'name/version'")
        }
        let contents = try await client.json(.GET, "/releases/\(parts[0])" + Self.query([("version", parts[1])]))
        let jobs = (contents["jobs"]?.arrayValue ?? []).map { job -> [String] in
            let names = { (key: String) in
                (job[key]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: "\n")
            }
            return [
                "\(job["name"]?.cell ?? "")/\(job["fingerprint"]?.cell ?? "")", job["blobstore_id"]?.cell ?? "",
                job["sha1"]?.cell ?? "", names("consumes"), names("provides"),
            ]
        }
        output.table(
            "jobs", columns: ["Job", "Blobstore ID", "Digest", "Links Consumed", "Links Provided"], rows: jobs)
        // One row for the source (when the release has it) and one per stemcell it is compiled for.
        let packages = (contents["packages"]?.arrayValue ?? []).flatMap { package -> [[String]] in
            let name = "\(package["name"]?.cell ?? "")/\(package["fingerprint"]?.cell ?? "")"
            let source =
                (package["blobstore_id"]?.stringValue ?? "").isEmpty
                ? [] : [[name, "(source)", package["blobstore_id"]?.cell ?? "", package["sha1"]?.cell ?? ""]]
            return source
                + (package["compiled_packages"]?.arrayValue ?? []).map { compiled in
                    [
                        name, compiled["stemcell"]?.cell ?? "", compiled["blobstore_id"]?.cell ?? "",
                        compiled["sha1"]?.cell ?? "",
                    ]
                }
        }
        output.table("packages", columns: ["Package", "Compiled for", "Blobstore ID", "Digest"], rows: packages)
    }
}

/// `bosun -d NAME export-release RELEASE/VERSION OS/VERSION [--dir D]`: has the director compile
/// the release for that stemcell and downloads the compiled release as
/// `<release>-<version>-<os>-<stemcell version>-<time>.tgz`, its digest checked.
struct ExportReleaseCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-release", abstract: "Export the compiled release to a tarball")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Name/version") var release: String
    @Argument(help: "OS/version of the stemcell to compile on") var stemcell: String
    @Option(name: .long, help: "Destination directory") var dir: String = "."

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let deployment = try deploymentName()
        let releaseParts = release.split(separator: "/", maxSplits: 1).map(String.init)
        let stemcellParts = stemcell.split(separator: "/", maxSplits: 1).map(String.init)
        guard releaseParts.count == 2 else {
            throw CommandFailure(message: "Expected release slug in the form 'name/version'")
        }
        guard stemcellParts.count == 2 else {
            throw CommandFailure(message: "Expected OS slug in the form 'os/version'")
        }
        let request: JSONValue = [
            "deployment_name": .string(deployment), "release_name": .string(releaseParts[0]),
            "release_version": .string(releaseParts[1]),
            "stemcell_os": .string(stemcellParts[0]), "stemcell_version": .string(stemcellParts[1]),
        ]
        let body = Data(((try? JSONCoding.string(request)) ?? "{}").utf8)
        let id = try await client.startTask(.POST, "/releases/export", body: body, contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(id)
        let result = try await client.send(.GET, "/tasks/\(id)/output?type=result")
        let line = String(decoding: result.body, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard let value = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(line.utf8)),
            let blob = value["blobstore_id"]?.stringValue,
            let sha1 = value["sha1"]?.stringValue
        else { throw CommandFailure(message: "Task \(id) returned no compiled release") }
        let tarball = try await client.send(.GET, "/resources/\(blob)")
        let digest = Insecure.SHA1.hash(data: tarball.body).map { String(format: "%02x", $0) }.joined()
        guard digest == sha1 else {
            throw CommandFailure(message: "The downloaded release has SHA-1 \(digest), the director said \(sha1)")
        }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let name = "\(releaseParts[0])-\(releaseParts[1])-\(stemcellParts[0])-\(stemcellParts[1])-\(stamp).tgz"
        let path = (dir as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: tarball.body) else {
            throw CommandFailure(message: "Cannot write '\(path)'")
        }
        output.line("Downloading resource '\(blob)' to '\(path)'...")
    }
}
