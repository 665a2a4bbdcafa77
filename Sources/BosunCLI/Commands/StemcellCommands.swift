import ArgumentParser
import BosunCore
import Foundation

/// `bosun upload-stemcell FILE [--fix]`: reads `stemcell.MF` from the tarball, asks the director
/// whether it needs it, uploads the file as is, and follows the task.
struct UploadStemcellCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload-stemcell", abstract: "Upload stemcell", aliases: ["us"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Path to a stemcell tarball, or an http(s) URL the director downloads it from") var file: String
    @Flag(name: .long, help: "Replace the stemcell even if one with that name and version exists") var fix = false
    @Option(name: .long, help: "SHA-1 (or sha256:…) the downloaded stemcell must have (URLs only)") var sha1: String?

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        if Self.isRemote(file) {
            return try await uploadRemoteAndFollow(
                file, sha1: sha1, to: "/stemcells", fix: fix, client: client, output: output)
        }
        let (name, version) = try TarballManifest.nameAndVersion(file, member: "stemcell.MF", what: "stemcell")
        if !fix {
            let request: JSONValue = ["stemcell": ["name": .string(name), "version": .string(version)]]
            let needed = try await client.json(
                .POST, "/stemcell_uploads", body: try? JSONCoding.encoder.encode(request),
                contentType: "application/json")
            if needed["needed"] == false {
                output.line("Stemcell '\(name)/\(version)' already exists.")
                return
            }
        }
        try await uploadAndFollow(file, what: "stemcell", to: "/stemcells", fix: fix, client: client, output: output)
    }
}

/// `bosun stemcells`.
struct StemcellsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "stemcells", abstract: "List stemcells", aliases: ["ss"])
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let stemcells = try await client.json(.GET, "/stemcells").arrayValue ?? []
        let rows = stemcells.map { stemcell -> [String] in
            let deployed = (stemcell["deployments"]?.arrayValue ?? []).isEmpty ? "" : "*"
            return [
                stemcell["name"]?.cell ?? "", (stemcell["version"]?.cell ?? "") + deployed,
                stemcell["operating_system"]?.cell ?? "",
                stemcell["cpi"]?.cell ?? "", stemcell["cid"]?.cell ?? "",
            ]
        }
        output.table(
            "stemcells", columns: ["Name", "Version", "OS", "CPI", "CID"], rows: rows, notes: ["(*) Currently deployed"]
        )
    }
}

/// `bosun delete-stemcell NAME/VERSION`.
struct DeleteStemcellCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-stemcell", abstract: "Delete stemcell", aliases: ["dels"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Name/version") var stemcell: String
    @Flag(name: .long, help: "Delete even when a deployment uses it") var force = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let parts = stemcell.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw CommandFailure(message: "Expected stemcell slug in the form 'name/version'")
        }
        try confirm(output)
        let id = try await client.startTask(
            .DELETE, "/stemcells/\(parts[0])/\(parts[1])" + (force ? "?force=true" : ""))
        try await TaskFollower(client: client, output: output).follow(id)
    }
}
