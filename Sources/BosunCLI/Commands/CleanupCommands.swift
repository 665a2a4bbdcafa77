import ArgumentParser
import BosunCore
import Foundation

/// `bosun orphaned-vms`: VMs replaced by create-swap-delete that wait for the cleanup.
struct OrphanedVMsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "orphaned-vms", abstract: "List all the orphaned VMs in all deployments")
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let orphans = try await client.json(.GET, "/orphaned_vms").arrayValue ?? []
        output.table(
            "vms", columns: ["VM CID", "Deployment", "Instance", "AZ", "IPs", "Orphaned At"],
            rows: orphans.map { orphan in
                [
                    orphan["cid"]?.cell ?? "", orphan["deployment_name"]?.cell ?? "", orphan["instance_name"]?.cell ?? "",
                    orphan["az"]?.cell ?? "", (orphan["ip_addresses"]?.arrayValue ?? []).map(\.cell).joined(separator: "\n"),
                    orphan["orphaned_at"]?.cell ?? "",
                ]
            })
    }
}

/// `bosun clean-up [--all]`: deletes orphaned VMs now instead of at the next scheduled round.
struct CleanUpCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "clean-up", abstract: "Clean up releases, stemcells, disks, etc.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Remove all unused releases, stemcells, etc.; otherwise most recent resources will be kept") var all = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        try confirm(output)
        let body: JSONValue = ["config": ["remove_all": .bool(all)]]
        let id = try await client.startTask(.POST, "/cleanup", body: Data(((try? JSONCoding.string(body)) ?? "{}").utf8), contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}
