import ArgumentParser
import BosunCore
import Foundation

/// A command that talks to a director: resolves the environment and credentials, prints bosh's
/// `Using environment '…' as client '…'` header, runs, then `Succeeded` (or the failure and exit
/// code 1).
protocol DirectorCommand: AsyncParsableCommand {
    var global: GlobalOptions { get }
    /// Commands that work without credentials (`env`, `alias-env`) skip the client in the header.
    var needsCredentials: Bool { get }
    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure)
}

extension DirectorCommand {
    var needsCredentials: Bool { true }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let output = CommandOutput(json: global.json)
        do {
            let target = try DirectorTarget.resolve(global, environment: environment)
            if let client = target.client, target.clientSecret != nil {
                output.line("Using environment '\(target.name)' as client '\(client)'")
            } else if needsCredentials {
                throw CommandFailure(
                    message:
                        "Expected client and client secret (--client/--client-secret, BOSH_CLIENT/BOSH_CLIENT_SECRET, or login)"
                )
            } else {
                output.line("Using environment '\(target.name)' as anonymous user")
            }
            output.line("")
            let client = try DirectorClient(target: target)
            try await run(client: client, output: output)
            output.succeed()
        } catch {
            throw error.report()
        }
    }

    /// bosh's confirmation: skipped with `-n`; anything but `y` stops the command.
    func confirm(_ output: CommandOutput) throws(CommandFailure) {
        if global.resolved(environment: ProcessInfo.processInfo.environment).nonInteractive { return }
        CommandOutput.write("Continue? [yN]: ")
        guard let answer = readLine(), answer.lowercased().hasPrefix("y") else {
            throw CommandFailure(message: "Stopped")
        }
    }

    /// Prints a config diff as bosh does: `+ ` added, `- ` removed, `  ` unchanged.
    func printDiff(_ diff: JSONValue?, _ output: CommandOutput) {
        for row in diff?.arrayValue ?? [] {
            guard let cells = row.arrayValue, cells.count == 2 else { continue }
            let marker = cells[1] == "added" ? "+ " : cells[1] == "removed" ? "- " : "  "
            output.line(marker + (cells[0].stringValue ?? ""))
        }
        output.line("")
    }

    /// Sends a release or stemcell tarball as is (`application/x-compressed`) and follows the task.
    func uploadAndFollow(
        _ file: String, what: String, to path: String, fix: Bool, rebase: Bool = false, client: DirectorClient,
        output: CommandOutput
    ) async throws(CommandFailure) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandFailure(message: "Reading \(what) '\(file)' failed")
        }
        let query = Self.query([("fix", fix ? "true" : nil), ("rebase", rebase ? "true" : nil)])
        let id = try await client.startTask(.POST, path + query, body: data, contentType: "application/x-compressed")
        try await TaskFollower(client: client, output: output).follow(id)
    }

    /// `upload-release URL` / `upload-stemcell URL`: the director downloads it (`{"location",
    /// "sha1"}`), checking the digest when one is given.
    func uploadRemoteAndFollow(
        _ location: String, sha1: String?, to path: String, fix: Bool, client: DirectorClient, output: CommandOutput
    ) async throws(CommandFailure) {
        var request: [String: JSONValue] = ["location": .string(location)]
        if let sha1 { request["sha1"] = .string(sha1) }
        let body = try? JSONCoding.encoder.encode(JSONValue.object(request))
        let id = try await client.startTask(
            .POST, path + (fix ? "?fix=true" : ""), body: body, contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(id)
    }

    /// Whether an upload argument is a URL for the director to fetch rather than a local file.
    static func isRemote(_ argument: String) -> Bool {
        argument.hasPrefix("http://") || argument.hasPrefix("https://")
    }

    static func readFile(_ path: String) throws(CommandFailure) -> String {
        try InterpolationRequest.read(path, what: "file")
    }

    static func query(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in value.map { (name, $0) } }.sorted { $0.0 < $1.0 }
        guard !present.isEmpty else { return "" }
        return "?"
            + present.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: queryValueAllowed) ?? $0.1)" }
            .joined(separator: "&")
    }

    /// What a query value may hold unencoded: `&`, `=`, `+` and `#` would end or change it.
    private static var queryValueAllowed: CharacterSet {
        CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))
    }
}

extension Error {
    /// Any failure as bosh reports it: message, `Exit code 1`.
    func report() -> ExitCode {
        ((self as? CommandFailure) ?? CommandFailure(message: "\(self)")).report()
    }
}

extension JSONValue {
    /// A cell: strings as they are, numbers in decimal, null as empty.
    var cell: String {
        switch self {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return ""
        default: return (try? String(decoding: JSONCoding.encoder.encode(self), as: UTF8.self)) ?? ""
        }
    }
}
