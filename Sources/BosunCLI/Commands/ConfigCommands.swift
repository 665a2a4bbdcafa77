import ArgumentParser
import BosunCore
import Foundation

/// `bosun configs [--type T] [--name N] [--recent N]`: current configs, or their history.
struct ConfigsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "configs", abstract: "List configs", aliases: ["cs"])
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Config type") var type: String?
    @Option(name: .long, help: "Config name") var name: String?
    @Option(name: [.customShort("r"), .long], help: "Number of configs to show") var recent: Int?

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let query = Self.query([
            ("type", type), ("name", name), ("latest", recent == nil ? "true" : "false"),
            ("limit", recent.map(String.init)),
        ])
        let configs = try await client.json(.GET, "/configs" + query).arrayValue ?? []
        let rows = configs.map { config -> [String] in
            [
                (config["id"]?.cell ?? "") + (config["current"] == true ? "*" : ""), config["type"]?.cell ?? "",
                config["name"]?.cell ?? "",
                config["team"]?.cell ?? "", config["created_at"]?.cell ?? "",
            ]
        }
        output.table(
            "configs", columns: ["ID", "Type", "Name", "Team", "Created At"], rows: rows,
            notes: ["(*) Currently active"])
    }
}

/// `bosun config ID` or `bosun config --type T --name N`: one config's content.
struct ConfigCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show current config for either ID or both type and name", aliases: ["c"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Config ID") var id: String?
    @Option(name: .long) var type: String?
    @Option(name: .long) var name: String?

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let config: JSONValue
        if let id {
            config = try await client.json(.GET, "/configs/\(id)")
        } else {
            guard let type else { throw CommandFailure(message: "Either an ID or --type (and --name) is needed") }
            let found = try await client.json(
                .GET, "/configs" + Self.query([("type", type), ("name", name ?? "default"), ("latest", "true")]))
            guard let first = found.arrayValue?.first else { throw CommandFailure(message: "No config") }
            config = first
        }
        output.table(
            "", columns: ["ID", "Type", "Name", "Created At", "Content"],
            rows: [
                [
                    config["id"]?.cell ?? "", config["type"]?.cell ?? "", config["name"]?.cell ?? "",
                    config["created_at"]?.cell ?? "",
                    config["content"]?.cell ?? "",
                ]
            ])
    }
}

/// `bosun update-config --type T --name N FILE`: shows the diff, asks, then stores a new version.
struct UpdateConfigCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-config", abstract: "Update config", aliases: ["uc"])
    @OptionGroup var global: GlobalOptions
    @Option(name: .long) var type: String
    @Option(name: .long) var name: String = "default"
    @Argument(help: "Path to a YAML config file") var file: String

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let content = try Self.readFile(file)
        let request: JSONValue = ["type": .string(type), "name": .string(name), "content": .string(content)]
        let body = (try? JSONCoding.encoder.encode(request)) ?? Data()
        let diff = try await client.json(.POST, "/configs/diff", body: body, contentType: "application/json")
        printDiff(diff["diff"], output)
        try confirm(output)
        _ = try await client.send(.POST, "/configs", body: body, contentType: "application/json")
    }
}

/// `bosun delete-config ID` or `--type T --name N`.
struct DeleteConfigCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-config", abstract: "Delete config", aliases: ["dc"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Config ID") var id: String?
    @Option(name: .long) var type: String?
    @Option(name: .long) var name: String = "default"

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        var type = self.type, name = self.name
        if let id {
            let config = try await client.json(.GET, "/configs/\(id)")
            type = config["type"]?.stringValue
            name = config["name"]?.stringValue ?? name
        }
        guard let type else { throw CommandFailure(message: "Either an ID or --type (and --name) is needed") }
        try confirm(output)
        let response = try await client.send(
            .DELETE, "/configs" + Self.query([("type", type), ("name", name)]),
            accepting: DirectorClient.successes.union([404]))
        if response.status == 404 {
            output.line("No configs to delete: no matches for type '\(type)' and name '\(name)' found.")
        }
    }
}

/// The `cloud-config`/`runtime-config`/`cpi-config` pairs: show the current one, or diff and update.
enum LegacyConfigKind: String {
    case cloud, runtime, cpi
    var title: String { rawValue + " config" }
}

protocol LegacyConfigShow: DirectorCommand {
    static var kind: LegacyConfigKind { get }
    var name: String { get }
}

extension LegacyConfigShow {
    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let configs = try await client.json(
            .GET, "/\(Self.kind.rawValue)_configs" + Self.query([("limit", "1"), ("name", name)]))
        guard let content = configs.arrayValue?.first?["properties"]?.stringValue else {
            throw CommandFailure(message: "No \(Self.kind.title)")
        }
        output.block(content.hasSuffix("\n") ? content : content + "\n")
    }
}

protocol LegacyConfigUpdate: DirectorCommand {
    static var kind: LegacyConfigKind { get }
    var name: String { get }
    var file: String { get }
}

extension LegacyConfigUpdate {
    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let content = Data(try Self.readFile(file).utf8)
        let path = "/\(Self.kind.rawValue)_configs"
        let query = Self.query([("name", name)])
        let diff = try await client.send(
            .POST, path + "/diff" + query, body: content, contentType: "text/yaml",
            accepting: DirectorClient.successes.union([404]))
        if diff.status != 404 { printDiff(try diff.json()["diff"], output) }
        try confirm(output)
        _ = try await client.send(.POST, path + query, body: content, contentType: "text/yaml")
    }
}

struct CloudConfigCommand: LegacyConfigShow {
    static let configuration = CommandConfiguration(
        commandName: "cloud-config", abstract: "Show current cloud config", aliases: ["cc"])
    static let kind = LegacyConfigKind.cloud
    @OptionGroup var global: GlobalOptions
    @Option(name: .long) var name: String = ""
}

struct UpdateCloudConfigCommand: LegacyConfigUpdate {
    static let configuration = CommandConfiguration(
        commandName: "update-cloud-config", abstract: "Update current cloud config", aliases: ["ucc"])
    static let kind = LegacyConfigKind.cloud
    @OptionGroup var global: GlobalOptions
    @Option(name: .long) var name: String = ""
    @Argument(help: "Path to a cloud config file") var file: String
}

struct RuntimeConfigCommand: LegacyConfigShow {
    static let configuration = CommandConfiguration(
        commandName: "runtime-config", abstract: "Show current runtime config", aliases: ["rc"])
    static let kind = LegacyConfigKind.runtime
    @OptionGroup var global: GlobalOptions
    @Option(name: .long) var name: String = ""
}

struct UpdateRuntimeConfigCommand: LegacyConfigUpdate {
    static let configuration = CommandConfiguration(
        commandName: "update-runtime-config", abstract: "Update current runtime config", aliases: ["urc"])
    static let kind = LegacyConfigKind.runtime
    @OptionGroup var global: GlobalOptions
    @Option(name: .long) var name: String = ""
    @Argument(help: "Path to a runtime config file") var file: String
}
