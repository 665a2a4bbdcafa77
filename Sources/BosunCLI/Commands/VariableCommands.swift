import ArgumentParser
import BosunCore
import Foundation

/// `bosun variables -d NAME`: the deployment's config server values by id and name (never their
/// contents).
struct VariablesCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "variables", abstract: "List variables of a deployment", aliases: ["vars"])
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let variables = try await client.json(.GET, "/deployments/\(try deploymentName())/variables").arrayValue ?? []
        output.table("variables", columns: ["ID", "Name"], rows: variables.map { [$0["id"]?.cell ?? "", $0["name"]?.cell ?? ""] })
    }
}

/// `bosun regenerate-variable -d NAME VAR...`: new values for the variables (certificates signed
/// by a regenerated CA are issued again), rolled out at once by a deploy of the deployed
/// manifest, with its update policy.
struct RegenerateVariableCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "regenerate-variable", abstract: "Generate new values for variables and roll them out")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Variable name (as in the manifest's variables:, or its full /director/deployment/name)") var names: [String]

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        guard !names.isEmpty else { throw CommandFailure(message: "Name at least one variable to regenerate") }
        try confirm(output)
        let body = Data(((try? JSONCoding.string(JSONValue.object(["names": .array(names.map(JSONValue.string))]))) ?? "{}").utf8)
        let id = try await client.startTask(
            .PUT, "/deployments/\(try deploymentName())/variables/regenerate", body: body, contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}
