import ArgumentParser
import BosunCore
import Foundation

/// The `bosh env` block: name, UUID, version, CPI, features, user.
func printInfo(_ info: JSONValue, _ output: CommandOutput) {
    var features: [String] = []
    if case .object(let entries)? = info["features"] {
        for name in entries.keys.sorted() {
            features.append("\(name): \(entries[name]?["status"] == true ? "enabled" : "disabled")")
        }
    }
    let user = info["user"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "(not logged in)"
    let rows: [(String, String)] = [
        ("Name", info["name"]?.cell ?? ""), ("UUID", info["uuid"]?.cell ?? ""),
        ("Version", info["version"]?.cell ?? ""),
        ("CPI", info["cpi"]?.cell ?? ""), ("Features", features.joined(separator: "\n")), ("User", user),
    ]
    if output.json {
        output.table("", columns: rows.map(\.0), rows: [rows.map(\.1)])
    } else {
        let width = rows.map(\.0.count).max() ?? 0
        for (title, value) in rows {
            let lines = value.split(separator: "\n", omittingEmptySubsequences: false)
            output.line(
                title.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + (lines.first.map(String.init) ?? ""))
            for more in lines.dropFirst() { output.line(String(repeating: " ", count: width + 2) + more) }
        }
    }
}

/// `bosun env`: the director's identity and whether the credentials work.
struct EnvCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Show director information", aliases: ["environment"])
    @OptionGroup var global: GlobalOptions
    var needsCredentials: Bool { false }

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        var info = try await client.info(authenticated: false)
        if client.target.client != nil { info = try await client.info(authenticated: true) }
        printInfo(info, output)
    }
}

/// `bosun alias-env NAME -e URL --ca-cert CA`: remembers a director under a short name.
struct AliasEnvCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias-env", abstract: "Alias environment to save URL and CA certificate")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Alias") var alias: String
    var needsCredentials: Bool { false }

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let info = try await client.info(authenticated: false)
        let environment = ProcessInfo.processInfo.environment
        var config = try CLIConfig.load(environment: environment)
        let previous = config.find(client.target.url)
        config.upsert(
            .init(
                url: client.target.url, alias: alias, caCert: client.target.caPEM, username: previous?.username,
                password: previous?.password))
        try config.save(environment: environment)
        printInfo(info, output)
    }
}

/// `bosun login`: checks Basic credentials against `/info` and keeps them for the environment.
struct LoginCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "log-in", abstract: "Log in", aliases: ["l", "login"])
    @OptionGroup var global: GlobalOptions
    var needsCredentials: Bool { false }

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let anonymous = try await client.info(authenticated: false)
        guard anonymous["user_authentication"]?["type"] == "basic" else {
            throw CommandFailure(
                message: "Unknown auth type '\(anonymous["user_authentication"]?["type"]?.cell ?? "")'")
        }
        guard let username = client.target.client, let password = client.target.clientSecret else {
            throw CommandFailure(
                message: "Logging in needs --client and --client-secret (or BOSH_CLIENT and BOSH_CLIENT_SECRET)")
        }
        let info = try await client.info(authenticated: true)
        guard let user = info["user"]?.stringValue, !user.isEmpty else {
            throw CommandFailure(message: "Failed to login\n\nInvalid credentials")
        }
        let environment = ProcessInfo.processInfo.environment
        var config = try CLIConfig.load(environment: environment)
        var entry =
            config.find(client.target.name) ?? config.find(client.target.url)
            ?? .init(url: client.target.url, caCert: client.target.caPEM)
        entry.username = username
        entry.password = password
        config.upsert(entry)
        try config.save(environment: environment)
        output.line("Successfully authenticated with Basic auth as '\(user)'")
        output.line("Logged in to '\(client.target.url)'")
    }
}

/// `bosun logout`: forgets the stored credentials of the environment.
struct LogoutCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "log-out", abstract: "Log out", aliases: ["logout"])
    @OptionGroup var global: GlobalOptions
    var needsCredentials: Bool { false }

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let environment = ProcessInfo.processInfo.environment
        var config = try CLIConfig.load(environment: environment)
        if var entry = config.find(client.target.name) ?? config.find(client.target.url) {
            entry.username = nil
            entry.password = nil
            config.upsert(entry)
            try config.save(environment: environment)
        }
        output.line("Logged out from '\(client.target.url)'")
    }
}
