import BosunCore
import CPI
import Foundation

/// What the CPI remembers about a VM (`vms/<cid>/vm.json`).
struct VMRecord: Codable {
    var cid: String
    var agentID: String
    var stemcellCID: String
    var network: VMNetwork
    var metadata: [String: String] = [:]
    /// eth0's MAC, learnt when the network was made (with secondary-address promotion on), so
    /// `move_address` need not look them up in the swap window. Nil for VMs made before.
    var mac: String?
    /// `env.bosh.groups` of `create_vm` (director, deployment, instance group…), for `list_vms`.
    var groups: [String]?

    var netns: String { cid }
    /// Host side of the veth pair; at most 15 characters.
    var hostVeth: String { "bv" + cid.dropFirst(3).prefix(12) }

    enum CodingKeys: String, CodingKey {
        case cid, network, metadata, mac, groups
        case agentID = "agent_id"
        case stemcellCID = "stemcell_cid"
    }
}

extension LocalCPI {
    public func createVM(
        agentID: String, stemcellCID: String, cloudProperties: JSONValue, networks: JSONValue, diskCIDs: [String],
        env: JSONValue
    ) async throws(CPIError) -> (vmCID: String, networks: JSONValue) {
        try paths.prepare()
        let stemcell = try stemcellManifest(stemcellCID)
        let network = try VMNetwork.parse(networks)
        guard FileManager.default.isExecutableFile(atPath: configuration.agentPath) else {
            throw CPIError(.vmCreationFailed, "agent binary '\(configuration.agentPath)' is missing or not executable")
        }
        let existing = runningVMCount()
        guard existing < configuration.maxVMs else {
            throw CPIError(.vmCreationFailed, "the local CPI already runs \(existing) VMs (max_vms \(configuration.maxVMs))", okToRetry: false)
        }
        let cid = "vm-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        var record = VMRecord(cid: cid, agentID: agentID, stemcellCID: stemcellCID, network: network)
        record.groups = env["bosh"]?["groups"]?.arrayValue?.compactMap(\.stringValue)
        do {
            try await ensureBridge(gateway: network.gateway, prefixLength: network.prefixLength)
            try writeVMFiles(record, stemcell: stemcell, cloudProperties: cloudProperties, networks: networks, env: env)
            record.mac = try await createNetworkNamespace(record)
            try RecordFile.write(record, to: paths.vm(cid) + "/vm.json")
            try await startContainer(record)
        } catch {
            await removeVM(record)
            throw error
        }
        return (cid, networks)
    }

    public func deleteVM(_ vmCID: String) async throws(CPIError) {
        guard let record = RecordFile.read(VMRecord.self, from: paths.vm(vmCID) + "/vm.json") else {
            // Unknown or half-created: clean whatever might exist under that name.
            if vmCID.hasPrefix("vm-") {
                await stopContainer(vmCID)
                try? FileManager.default.removeItem(atPath: paths.vm(vmCID))
            }
            return
        }
        await removeVM(record)
    }

    /// VMs whose main process runs (from their pid files). A VM whose agent shut it down — an
    /// orphaned VM waiting for the cleanup — holds no CPU or memory and does not count.
    func runningVMCount() -> Int {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: paths.vms)) ?? []
        return all.filter { cid in
            guard let text = try? String(contentsOfFile: paths.vm(cid) + "/pid", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
            else {
                // Being created (no pid file yet) counts: it is about to run.
                return !FileManager.default.fileExists(atPath: paths.vm(cid) + "/pid")
            }
            return stat[stat.index(close, offsetBy: 2)] != "Z"
        }.count
    }

    /// Every VM with its agent and `env.bosh.groups` (Bosun's `list_vms`).
    public func listVMs() async throws(CPIError) -> [ListedVM] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: paths.vms)) ?? []
        return all.sorted().compactMap { cid in
            RecordFile.read(VMRecord.self, from: paths.vm(cid) + "/vm.json").map { ListedVM(vmCID: $0.cid, agentID: $0.agentID, groups: $0.groups ?? []) }
        }
    }

    /// VMs whose record names the agent; one a `create_vm` is still building counts.
    public func findVMs(agentID: String) async throws(CPIError) -> [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: paths.vms)) ?? []
        return all.filter { RecordFile.read(VMRecord.self, from: paths.vm($0) + "/vm.json")?.agentID == agentID }.sorted()
    }

    public func hasVM(_ vmCID: String) async throws(CPIError) -> Bool {
        guard FileManager.default.fileExists(atPath: paths.vm(vmCID) + "/vm.json") else { return false }
        return (try? await containerPID(vmCID)) != nil
    }

    public func rebootVM(_ vmCID: String) async throws(CPIError) {
        guard let record = RecordFile.read(VMRecord.self, from: paths.vm(vmCID) + "/vm.json") else {
            throw CPIError(.vmNotFound, "VM '\(vmCID)' does not exist")
        }
        await stopContainer(vmCID)
        try await startContainer(record)
        try await paths.locked { () throws(CPIError) in
            for disk in try await getDisks(vmCID: vmCID) {
                if let loop = RecordFile.read(DiskRecord.self, from: paths.diskRecord(disk))?.loopDevice {
                    try await exposeDevice(loop, as: disk, in: vmCID)
                }
            }
        }
    }

    public func setVMMetadata(_ vmCID: String, _ metadata: [String: String]) async throws(CPIError) {
        let file = paths.vm(vmCID) + "/vm.json"
        try await paths.locked { () throws(CPIError) in
            guard var record = RecordFile.read(VMRecord.self, from: file) else {
                throw CPIError(.vmNotFound, "VM '\(vmCID)' does not exist")
            }
            record.metadata.merge(metadata) { $1 }
            try RecordFile.write(record, to: file)
        }
    }

    /// The VM's directory: identity files, the private `/var/vcap` with the agent's settings, the bundle.
    private func writeVMFiles(
        _ record: VMRecord, stemcell: LocalStemcell.Manifest, cloudProperties: JSONValue, networks: JSONValue, env: JSONValue
    ) throws(CPIError) {
        let directory = paths.vm(record.cid)
        let fileManager = FileManager.default
        do {
            for sub in ["/etc", "/vcap/bosh/bin", "/vcap/data", "/vcap/store", "/bundle"] {
                try fileManager.createDirectory(atPath: directory + sub, withIntermediateDirectories: true)
            }
            try "\(record.cid)\n".write(toFile: directory + "/etc/hostname", atomically: true, encoding: .utf8)
            try "127.0.0.1 localhost\n\(record.network.ip) \(record.cid)\n".write(
                toFile: directory + "/etc/hosts", atomically: true, encoding: .utf8)
            try "# the local CPI gives VMs no DNS\n".write(toFile: directory + "/etc/resolv.conf", atomically: true, encoding: .utf8)
            // The agent binary is bind-mounted here; the mountpoint must exist in the writable /var/vcap.
            guard fileManager.createFile(atPath: directory + "/vcap/bosh/bin/bosun-agent", contents: nil) else {
                throw CPIError(.vmCreationFailed, "cannot create the agent mountpoint in \(directory)")
            }
            let mbus = env["bosh"]?["mbus"]?["urls"].flatMap { if case .array(let urls) = $0 { urls.first } else { nil } }
                ?? configuration.mbus.map(JSONValue.string) ?? .null
            var settings: [String: JSONValue] = [
                "agent_id": .string(record.agentID), "vm": ["name": .string(record.cid)], "mbus": mbus,
                "networks": networks, "disks": ["persistent": [:]], "env": env, "ntp": [],
            ]
            if let blobstore = configuration.blobstore { settings["blobstore"] = blobstore }
            let settingsData = try JSONCoding.encoder.encode(settings)
            guard fileManager.createFile(
                atPath: directory + "/vcap/bosh/settings.json", contents: settingsData, attributes: [.posixPermissions: 0o600])
            else { throw CPIError(.vmCreationFailed, "cannot write the agent settings in \(directory)") }
        } catch let error as CPIError {
            throw error
        } catch {
            throw CPIError(.vmCreationFailed, "cannot prepare VM directory \(directory): \(error.localizedDescription)")
        }
        let bundle = OCIBundle(
            name: record.cid, skeleton: try skeletonRoot(), hostDirectories: stemcell.hostDirectories, vmDirectory: directory,
            agentPath: configuration.agentPath, netnsPath: "/run/netns/" + record.netns,
            memoryMB: cloudProperties["ram"].flatMap { if case .int(let v) = $0 { v } else { nil } },
            cpus: cloudProperties["cpu"].flatMap { if case .int(let v) = $0 { v } else { nil } },
            tmpSizeMB: cloudProperties["tmp_size"].flatMap { if case .int(let v) = $0 { v } else { nil } } ?? 64,
            heartbeatSeconds: configuration.agentHeartbeatSeconds)
        try RecordFile.write(bundle.configuration(), to: directory + "/bundle/config.json")
        try RecordFile.write(record, to: directory + "/vm.json")
    }

    /// An empty read-only root with mountpoints and the merged-/usr links; shared by all VMs.
    func skeletonRoot() throws(CPIError) -> String {
        let skeleton = paths.root + "/skeleton"
        if FileManager.default.fileExists(atPath: skeleton + "/var/vcap") { return skeleton }
        let staging = skeleton + ".partial-\(getpid())"
        do {
            for directory in ["usr", "etc", "opt", "var/vcap", "proc", "sys", "dev", "tmp", "root", "run", "home"] {
                try FileManager.default.createDirectory(atPath: staging + "/" + directory, withIntermediateDirectories: true)
            }
            for link in ["bin", "lib", "lib64", "sbin"] {
                try FileManager.default.createSymbolicLink(atPath: staging + "/" + link, withDestinationPath: "usr/" + link)
            }
        } catch {
            throw CPIError(.vmCreationFailed, "cannot build the VM root skeleton: \(error.localizedDescription)")
        }
        if rename(staging, skeleton) != 0 { try? FileManager.default.removeItem(atPath: staging) }  // another process won
        return skeleton
    }

    /// The runtime command line. crun 1.8 refuses hosts with "hybrid" cgroups (a cgroup2 mount with
    /// controllers next to v1); it runs in a private mount namespace where that mount is gone, so
    /// it sees plain v1 (reference A.2). runc needs no such help.
    private func runtime(_ arguments: [String]) -> (String, [String]) {
        let binary = FileManager.default.isExecutableFile(atPath: "/usr/bin/" + configuration.runtime)
            ? "/usr/bin/" + configuration.runtime : "/usr/sbin/" + configuration.runtime
        let full = ["--root", configuration.runtimeRoot] + arguments
        guard configuration.runtime == "crun" else { return (binary, full) }
        return (
            "/usr/bin/unshare",
            ["-m", "--propagation", "slave", "/bin/sh", "-c", "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$0\" \"$@\"", binary]
                + full
        )
    }

    func startContainer(_ record: VMRecord) async throws(CPIError) {
        let directory = paths.vm(record.cid)
        let (runtime, arguments) = runtime([
            "run", "-d", "--bundle", directory + "/bundle", "--pid-file", directory + "/pid", record.cid,
        ])
        try await HostCommand.cpi(.vmCreationFailed, runtime, arguments, stdoutFile: directory + "/console.log")
    }

    func stopContainer(_ cid: String) async {
        let (runtime, kill) = runtime(["kill", cid, "KILL"])
        await HostCommand.bestEffort(runtime, kill)
        let (_, delete) = self.runtime(["delete", "-f", cid])
        await HostCommand.bestEffort(runtime, delete)
    }

    /// The PID of the VM's main process, from the runtime's state.
    func containerPID(_ cid: String) async throws(CPIError) -> Int {
        let (runtime, arguments) = runtime(["state", cid])
        let output = try await HostCommand.cpi(.vmNotFound, runtime, arguments)
        guard let state = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8)),
            case .int(let pid)? = state["pid"], pid > 0, state["status"]?.stringValue != "stopped"
        else { throw CPIError(.vmNotFound, "VM '\(cid)' is not running") }
        return pid
    }

    /// Stops the container, releases disks, removes network and files. Safe to repeat.
    func removeVM(_ record: VMRecord) async {
        await stopContainer(record.cid)
        _ = try? await paths.locked { () throws(CPIError) in
            for disk in try await getDisks(vmCID: record.cid) {
                try await releaseLoopDevice(disk)
            }
        }
        await deleteNetworkNamespace(record)
        try? FileManager.default.removeItem(atPath: paths.vm(record.cid))
    }
}
