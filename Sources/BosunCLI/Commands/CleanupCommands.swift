import ArgumentParser
import BosunCore
import Foundation

/// `bosun orphaned-vms`: VMs replaced by create-swap-delete that wait for the cleanup.
struct OrphanedVMsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "orphaned-vms", abstract: "List all the orphaned VMs in all deployments")
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let orphans = try await client.json(.GET, "/orphaned_vms").arrayValue ?? []
        output.table(
            "vms", columns: ["VM CID", "Deployment", "Instance", "AZ", "IPs", "Orphaned At"],
            rows: orphans.map { orphan in
                [
                    orphan["cid"]?.cell ?? "", orphan["deployment_name"]?.cell ?? "",
                    orphan["instance_name"]?.cell ?? "",
                    orphan["az"]?.cell ?? "",
                    (orphan["ip_addresses"]?.arrayValue ?? []).map(\.cell).joined(separator: "\n"),
                    orphan["orphaned_at"]?.cell ?? "",
                ]
            })
    }
}

/// `bosun clean-up [--all]`: deletes orphaned VMs now instead of at the next scheduled round.
struct CleanUpCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean-up", abstract: "Clean up releases, stemcells, disks, etc.")
    @OptionGroup var global: GlobalOptions
    @Flag(
        name: .long, help: "Remove all unused releases, stemcells, etc.; otherwise most recent resources will be kept")
    var all = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        try confirm(output)
        let body: JSONValue = ["config": ["remove_all": .bool(all)]]
        let id = try await client.startTask(
            .POST, "/cleanup", body: Data(((try? JSONCoding.string(body)) ?? "{}").utf8),
            contentType: "application/json")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

/// `bosun disks --orphaned`: persistent disks no instance uses, kept with their data.
struct DisksCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "disks", abstract: "List disks")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("o"), .long], help: "List orphaned disks") var orphaned = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        guard orphaned else { throw CommandFailure(message: "Only --orphaned disks can be listed") }
        let disks = try await client.json(.GET, "/disks").arrayValue ?? []
        output.table(
            "disks", columns: ["Disk CID", "Size", "Deployment", "Instance", "AZ", "Orphaned At"],
            rows: disks.map { disk in
                [
                    disk["disk_cid"]?.cell ?? "", "\(disk["size"]?.cell ?? "0") MiB",
                    disk["deployment_name"]?.cell ?? "",
                    disk["instance_name"]?.cell ?? "", disk["az"]?.cell ?? "", disk["orphaned_at"]?.cell ?? "",
                ]
            })
    }
}

/// `bosun delete-disk CID`: deletes an orphaned disk and its data.
struct DeleteDiskCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "delete-disk", abstract: "Delete disk")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Orphaned disk CID") var cid: String

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        try confirm(output)
        let id = try await client.startTask(.DELETE, "/disks/\(cid)")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

/// `bosun orphan-disk CID`: an instance's persistent disk becomes an orphan (`disks --orphaned`);
/// one that already is stays as it is.
struct OrphanDiskCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "orphan-disk", abstract: "Orphan disk")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Disk CID") var cid: String

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        try confirm(output)
        let id = try await client.startTask(.DELETE, "/disks/\(cid)?orphan=true")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

/// `bosun -d NAME attach-disk GROUP/ID CID`: gives an orphaned disk to an instance that
/// `stop --hard` left without a VM; `start` mounts it.
struct AttachDiskCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach-disk", abstract: "Attaches disk to an instance")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Instance: GROUP/ID or GROUP/INDEX") var instance: String
    @Argument(help: "Orphaned disk CID") var cid: String

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let name = try deploymentName()
        let parts = instance.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw CommandFailure(message: "Expected an instance as GROUP/ID, got '\(instance)'")
        }
        let query = Self.query([("deployment", name), ("job", parts[0]), ("instance_id", parts[1])])
        let id = try await client.startTask(.PUT, "/disks/\(cid)/attachments" + query)
        try await TaskFollower(client: client, output: output).follow(id)
    }
}
