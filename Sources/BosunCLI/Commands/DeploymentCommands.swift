import ArgumentParser
import BosunCore
import Foundation

extension DirectorCommand {
    /// The deployment from `-d` / `BOSUN_DEPLOYMENT` / `BOSH_DEPLOYMENT`.
    func deploymentName() throws(CommandFailure) -> String {
        guard let name = global.resolved(environment: ProcessInfo.processInfo.environment).deployment, !name.isEmpty
        else {
            throw CommandFailure(message: "Expected non-empty deployment name (-d, BOSH_DEPLOYMENT)")
        }
        return name
    }

    /// Waits for a task without printing its events, then returns its result output's lines.
    func taskResultLines(_ id: Int, client: DirectorClient) async throws(CommandFailure) -> [JSONValue] {
        try await TaskFollower(client: client, output: CommandOutput(json: true)).follow(id)
        let result = try await client.send(.GET, "/tasks/\(id)/output?type=result")
        return String(decoding: result.body, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONCoding.decoder.decode(JSONValue.self, from: Data($0.utf8))
        }
    }
}

/// `bosun deploy -d NAME MANIFEST`: interpolates locally (`-v`, `-l`, `-o`, …), shows the diff
/// against what is deployed, asks, then deploys and follows the task.
struct DeployCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Update deployment", aliases: ["d"])
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Path to a manifest file") var manifest: String
    @OptionGroup var variables: ManifestVariableOptions
    @Flag(name: .long, help: "Recreate all VMs in deployment") var recreate = false
    @Option(name: .customLong("recreate-vms-created-before"), help: "Recreate VMs created before this RFC 3339 time")
    var recreateVMsCreatedBefore: String?
    @Option(
        name: .customLong("skip-drain"),
        help: "Skip running drain scripts (of every group, or of --skip-drain=GROUP; repeatable)")
    var skipDrain: [String] = []
    @Flag(name: .customLong("no-redact"), help: "Show non-redacted manifest diff") var noRedact = false
    @Option(name: .long, help: "Override manifest values for canaries") var canaries: String?
    @Option(name: .customLong("max-in-flight"), help: "Override manifest values for max_in_flight") var maxInFlight:
        String?
    @Flag(name: .customLong("dry-run"), help: "Plan, check capacity and render templates; change nothing") var dryRun =
        false
    @Option(name: .long, help: "At most this many create-swap-delete replacement VMs at once per instance group")
    var surge: Int?
    @Flag(name: .customLong("fit-surge"), help: "Lower the surge until the replacements fit the IaaS's capacity")
    var fitSurge = false
    @Flag(
        name: .long,
        help: "Recreate instances whose VM is gone or whose agent does not answer, instead of failing on them")
    var fix = false
    @Flag(
        name: .customLong("recreate-persistent-disks"),
        help: "Give every instance a new persistent disk, its data migrated")
    var recreatePersistentDisks = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let name = try deploymentName()
        if let surge, surge < 1 { throw CommandFailure(message: "--surge must be at least 1") }
        let text = try InterpolationRequest(
            manifestPath: manifest, vars: variables.vars, varFiles: variables.varFiles, varsFiles: variables.varsFiles,
            varsEnv: variables.varsEnv, varsStore: variables.varsStore, opsFiles: variables.opsFiles
        ).run(environment: ProcessInfo.processInfo.environment)
        let manifestName = (try? YAMLValue.parse(text, source: manifest))?["name"]?.stringValue
        guard manifestName == name else {
            throw CommandFailure(
                message: "Expected manifest to specify deployment name '\(name)' but was '\(manifestName ?? "")'")
        }
        let body = Data(text.utf8)
        let diff = try await client.json(
            .POST, "/deployments/\(name)/diff?redact=\(!noRedact)", body: body, contentType: "text/yaml")
        printDiff(diff["diff"], output)
        try confirm(output)
        // The configs the diff was made against are the ones deployed, as bosh does.
        let context: String? = diff["context"].flatMap { try? JSONCoding.string($0) }
        let skipDrainValue: String? = SkipDrain(query: skipDrain.joined(separator: ",")).queryValue
        let query = Self.query([
            ("recreate", recreate || recreateVMsCreatedBefore != nil ? "true" : nil), ("skip_drain", skipDrainValue),
            ("canaries", canaries),
            ("max_in_flight", maxInFlight), ("dry_run", dryRun ? "true" : nil), ("surge", surge.map(String.init)),
            ("fit_surge", fitSurge ? "true" : nil), ("fix", fix ? "true" : nil),
            ("recreate_persistent_disks", recreatePersistentDisks ? "true" : nil), ("context", context),
            ("recreate_vms_created_before", recreateVMsCreatedBefore),
        ])
        let id = try await client.startTask(.POST, "/deployments" + query, body: body, contentType: "text/yaml")
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

/// `bosun deployments`: name, releases, stemcells.
struct DeploymentsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments", abstract: "List deployments", aliases: ["ds", "deps"])
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let deployments = try await client.json(.GET, "/deployments?exclude_configs=true").arrayValue ?? []
        func names(_ value: JSONValue?) -> String {
            (value?.arrayValue ?? []).map { "\($0["name"]?.cell ?? "")/\($0["version"]?.cell ?? "")" }.joined(
                separator: "\n")
        }
        output.table(
            "deployments", columns: ["Name", "Release(s)", "Stemcell(s)", "Team(s)"],
            rows: deployments.map { [$0["name"]?.cell ?? "", names($0["releases"]), names($0["stemcells"]), ""] })
    }
}

/// `bosun manifest -d NAME`: the manifest last deployed, as it was given.
struct ManifestCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest", abstract: "Show deployment manifest", aliases: ["man"])
    @OptionGroup var global: GlobalOptions

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let manifest = try await client.json(.GET, "/deployments/\(try deploymentName())")
        output.block(manifest["manifest"]?.stringValue ?? "")
    }
}

/// `bosun delete-deployment -d NAME [--force]`.
struct DeleteDeploymentCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-deployment", abstract: "Delete deployment", aliases: ["deld"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Ignore errors") var force = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let name = try deploymentName()
        try confirm(output)
        let id = try await client.startTask(.DELETE, "/deployments/\(name)" + (force ? "?force=true" : ""))
        try await TaskFollower(client: client, output: output).follow(id)
    }
}

/// `bosun instances -d NAME [--ps] [--details] [--vitals]` and `bosun vms -d NAME`.
struct InstancesCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "instances", abstract: "List all instances in a deployment", aliases: ["is"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("i"), .long], help: "Show details including VM CID, persistent disk CID, etc.")
    var details = false
    @Flag(name: .long, help: "Show vitals") var vitals = false
    @Flag(name: [.customShort("p"), .customLong("ps")], help: "Show processes") var processes = false
    @Flag(name: .long, help: "Only show failing instances") var failing = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let name = try deploymentName()
        let id = try await client.startTask(.GET, "/deployments/\(name)/instances?format=full")
        let rows = try await taskResultLines(id, client: client)
        output.line("Deployment '\(name)'")
        output.line("")
        output.table(
            "instances",
            columns: InstanceRows.columns(details: details, vitals: vitals, processes: processes, vms: false),
            rows: InstanceRows.rows(
                rows, details: details, vitals: vitals, processes: processes, failing: failing, vms: false))
    }
}

struct VMsCommand: DirectorCommand {
    static let configuration = CommandConfiguration(commandName: "vms", abstract: "List all VMs in a deployment")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Show vitals") var vitals = false

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        let name = try deploymentName()
        let id = try await client.startTask(.GET, "/deployments/\(name)/vms?format=full")
        let rows = try await taskResultLines(id, client: client)
        output.line("Deployment '\(name)'")
        output.line("")
        output.table(
            "vms", columns: InstanceRows.columns(details: false, vitals: vitals, processes: false, vms: true),
            rows: InstanceRows.rows(rows, details: false, vitals: vitals, processes: false, failing: false, vms: true))
    }
}

/// The rows `instances` and `vms` print, from the NDJSON lines of the `vms` task.
enum InstanceRows {
    static func columns(details: Bool, vitals: Bool, processes: Bool, vms: Bool) -> [String] {
        var columns = ["Instance"] + (processes ? ["Process"] : []) + ["Process State", "AZ", "IPs"]
        if vms { columns += ["VM CID", "VM Type", "Active", "Stemcell"] }
        if details { columns += ["VM CID", "Disk CIDs", "Agent ID", "Index", "Bootstrap", "Last Heartbeat"] }
        if vitals { columns += ["Uptime", "Load (1m, 5m, 15m)", "CPU Total", "Memory Usage", "Persistent Disk Usage"] }
        return columns
    }

    /// How long ago the health monitor heard the agent, and whether it counts it as timed out.
    static func heartbeat(_ line: JSONValue) -> String {
        guard let text = line["last_heartbeat"]?.stringValue, let time = ISO8601DateFormatter().date(from: text) else {
            return ""
        }
        let ago = "\(max(0, Int(Date().timeIntervalSince(time))))s ago"
        return line["agent_timed_out"] == .bool(true) ? ago + " (timed out)" : ago
    }

    static func rows(
        _ lines: [JSONValue], details: Bool, vitals: Bool, processes: Bool, failing: Bool, vms: Bool
    ) -> [[String]] {
        var rows: [[String]] = []
        for line in lines {
            let state = line["job_state"]?.cell ?? ""
            if failing && state == "running" { continue }
            var row = ["\(line["job_name"]?.cell ?? "")/\(line["id"]?.cell ?? "")"] + (processes ? [""] : [])
            row += [state, line["az"]?.cell ?? "", (line["ips"]?.arrayValue ?? []).map(\.cell).joined(separator: "\n")]
            if vms {
                let stemcell = line["stemcell"].map { "\($0["name"]?.cell ?? "")/\($0["version"]?.cell ?? "")" } ?? ""
                row += [line["vm_cid"]?.cell ?? "", line["vm_type"]?.cell ?? "", line["active"]?.cell ?? "", stemcell]
            }
            if details {
                row += [
                    line["vm_cid"]?.cell ?? "",
                    (line["disk_cids"]?.arrayValue ?? []).map(\.cell).joined(separator: "\n"),
                    line["agent_id"]?.cell ?? "", line["index"]?.cell ?? "", line["bootstrap"]?.cell ?? "",
                    heartbeat(line),
                ]
            }
            if vitals {
                let v = line["vitals"]
                let load = (v?["load"]?.arrayValue ?? []).map(\.cell).joined(separator: ", ")
                row += [
                    v?["uptime"]?["secs"]?.cell ?? "", load, v?["cpu"]?["user"]?.cell ?? "",
                    v?["mem"]?["percent"].map { "\($0.cell)%" } ?? "",
                    v?["disk"]?["persistent"]?["percent"].map { "\($0.cell)%" } ?? "",
                ]
            }
            rows.append(row)
            if processes {
                for process in line["processes"]?.arrayValue ?? [] {
                    var processRow = ["", process["name"]?.cell ?? "", process["state"]?.cell ?? "", "", ""]
                    processRow += Array(
                        repeating: "",
                        count: max(
                            0,
                            columns(details: details, vitals: vitals, processes: true, vms: vms).count
                                - processRow.count))
                    rows.append(processRow)
                }
            }
        }
        return rows
    }
}

/// `bosun update-resurrection on|off`: resumes or pauses the resurrector for every deployment.
struct UpdateResurrectionCommand: DirectorCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-resurrection", abstract: "Enable or disable resurrection")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "on or off") var state: String

    func run(client: DirectorClient, output: CommandOutput) async throws(CommandFailure) {
        guard ["on", "off"].contains(state) else {
            throw CommandFailure(message: "Expected 'on' or 'off', got '\(state)'")
        }
        let body = Data(#"{"resurrection_paused":\#(state == "off")}"#.utf8)
        _ = try await client.send(.PUT, "/resurrection", body: body, contentType: "application/json")
    }
}
