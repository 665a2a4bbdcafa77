import AgentProtocol
import Blobstore
import BosunCore
import Foundation
import TestSupport
import Testing

@testable import Director
@testable import LocalCPI

/// Runs a shell command inside the VM and returns its output.
func inVM(_ cpi: LocalCPI, _ vm: String, _ command: String) async throws -> String {
    try await HostCommand.run("/usr/sbin/runc", ["--root", cpi.configuration.runtimeRoot, "exec", vm, "/bin/sh", "-c", command])
}

/// Processes of the VM (its PID namespace, seen from the host) that are zombies.
func zombies(in cpi: LocalCPI, vm: String) async throws -> [String] {
    let initPID = try await cpi.containerPID(vm)
    let namespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/pid")
    var found: [String] = []
    for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") where Int(entry) != nil {
        guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/pid")) == namespace,
            let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        if stat[stat.index(close, offsetBy: 2)] == "Z" { found.append(String(stat[..<close]) + ")") }
    }
    return found
}

/// Apply a monit-style and a bpm job with a package from the blobstore, start, stop — and the
/// daemon the monit job's ctl script left behind (an orphan of the VM's PID 1) is reaped.
func exerciseApplyAndReaping(cpi: LocalCPI, vm: String, client: AgentClient, blobstore: RunningBlobstore) async throws {
    let store = try blobstore.client()
    let greeter = try await AgentProcessTests.upload(
        [("bin/greet", "#!/bin/sh\necho hello from greeter\n", 0o755)], name: "greeter", version: "1.0", to: store)
    let archive = try await AgentProcessTests.upload(AgentProcessTests.renderedJobs(vcap: "/var/vcap"), name: "", version: "", to: store)
    let spec = AgentProcessTests.spec(jobs: ["web", "worker"], packages: [greeter], archive: archive)
    #expect(try await client.send(.apply(spec)) == "applied")
    #expect(try await client.send(.start) == "started")
    var state: JSONValue = [:]
    for _ in 0..<100 where state["job_state"] != "running" {
        try await Task.sleep(for: .milliseconds(100))
        state = try await client.send(.getState(full: false))
    }
    #expect(state["job_state"] == "running", "\(state)")
    #expect(try await inVM(cpi, vm, "cat /var/vcap/sys/log/web/greeting.log") == "hello from greeter\n")
    #expect(try await client.send(.stop) == "stopped")
    var left: [String] = ["(not checked)"]
    for _ in 0..<50 where !left.isEmpty {
        try await Task.sleep(for: .milliseconds(100))
        left = try await zombies(in: cpi, vm: vm)
    }
    #expect(left.isEmpty, "zombies in the VM: \(left)")
}

/// Mount, write, migrate to a second disk, unmount: the agent's disk methods on real loop devices.
func exerciseDisks(cpi: LocalCPI, vm: String, client: AgentClient) async throws {
    func shell(_ command: String) async throws -> String { try await inVM(cpi, vm, command) }
    let old = try await cpi.createDisk(sizeMB: 32, cloudProperties: [:], vmCID: vm)
    let new = try await cpi.createDisk(sizeMB: 48, cloudProperties: [:], vmCID: vm)
    for disk in [old, new] {
        let hint = try await cpi.attachDisk(vmCID: vm, diskCID: disk)
        _ = try await client.send(.addPersistentDisk(diskCID: disk, hint: hint))
    }
    _ = try await client.send(.mountDisk(diskCID: old))  // formats on first use
    _ = try await shell("echo kept > /var/vcap/store/data && mkdir -p /var/vcap/store/dir && echo deep > /var/vcap/store/dir/file")
    let mounted = try await client.send(.listDisk)
    #expect(mounted == [.string(old)])
    _ = try await client.send(.mountDisk(diskCID: new))  // goes to the migration target
    _ = try await client.send(.migrateDisk(oldCID: old, newCID: new))
    let listedAfter = try await client.send(.listDisk)
    #expect(listedAfter == [.string(new)])
    let content = try await shell("cat /var/vcap/store/data /var/vcap/store/dir/file")
    #expect(content == "kept\ndeep\n")
    let unmounted = try await client.send(.unmountDisk(diskCID: new))
    #expect(unmounted["message"] == .string("Unmounted partition of \(new)"))
    let again = try await client.send(.unmountDisk(diskCID: new))
    #expect(again["message"] == .string("Partition of \(new) is not mounted"))
    for disk in [old, new] {
        try await cpi.detachDisk(vmCID: vm, diskCID: disk)
        _ = try await client.send(.removePersistentDisk(diskCID: disk))
        try await cpi.deleteDisk(disk)
    }
}

/// The agent as PID 1 of a local-CPI VM: it reaches NATS over the bridge with its certificate,
/// answers the director, and mounts the tmpfs its env asks for. Needs root.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: getuid() == 0, "needs root"))
struct AgentInVMTests {
    @Test func agentInAVMAnswersAndMountsTheRequestedTmpfs() async throws {
        let token = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-agent-vm-\(token)").path
        let subnet = "10.\(Int.random(in: 200...250)).\(Int.random(in: 1...254))"
        let gateway = "\(subnet).1"
        let cpi = LocalCPI(configuration: .init(
            workDirectory: directory + "/work", bridgeName: "ba" + String(token.prefix(8)),
            agentPath: AgentProcessTests.binary, runtimeRoot: "/run/bosun-agent-vm-\(token)"))
        defer {
            _ = try? FileManager.default.removeItem(atPath: directory)
            _ = try? FileManager.default.removeItem(atPath: cpi.configuration.runtimeRoot)
        }
        try await cpi.ensureBridge(gateway: gateway, prefixLength: 24)
        var vm: String?
        var blobstoreToStop: BlobstoreProcess?
        do {
            let blobstore = try await BlobstoreProcess.start(host: gateway)
            blobstoreToStop = blobstore
            let server = try NATSServerProcess(options: .init(tls: true, users: [
                .init(commonName: "agent-7", publish: ["hm.agent.>", "director.*.agent-7.*"], subscribe: ["agent.agent-7"])
            ], host: gateway))
            try server.start()
            let tarball = try await LocalCPI.buildStemcell(into: directory)
            try FileManager.default.createDirectory(atPath: directory + "/stemcell", withIntermediateDirectories: true)
            _ = try await HostCommand.run("/bin/tar", ["-xzf", tarball, "-C", directory + "/stemcell"])
            let stemcell = try await cpi.createStemcell(imagePath: directory + "/stemcell/image", cloudProperties: [:])
            func pem(_ name: String) throws -> JSONValue { .string(try String(contentsOfFile: server.path(name), encoding: .utf8)) }
            let env: JSONValue = ["bosh": [
                "mbus": ["urls": [.string(server.url.absoluteString)],
                         "cert": ["ca": try pem("ca.crt"), "certificate": try pem("agent-7.crt"), "private_key": try pem("agent-7.key")]],
                "job_dir": ["tmpfs": true, "tmpfs_size": "32m"],
                "agent": ["settings": ["tmpfs": true]],
                "blobstores": [try JSONValue(encoding: blobstore.running.settings)],
            ]]
            let (cid, _) = try await cpi.createVM(
                agentID: "agent-7", stemcellCID: stemcell, cloudProperties: ["ram": 256],
                networks: ["default": ["type": "manual", "ip": .string("\(subnet).10"), "netmask": "255.255.255.0", "gateway": .string(gateway)]],
                diskCIDs: [], env: env)
            vm = cid
            try await withRunningClient(configuration(server)) { director in
                let router = try await AgentReplyRouter(nats: director, directorUUID: "d-9")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await router.route() }
                    var client = AgentClient(
                        router: router, agentID: "agent-7", instanceName: "web/0", requestTimeout: .milliseconds(500),
                        taskPollInterval: .milliseconds(50))
                    var answered = false
                    let deadline = ContinuousClock.now + .seconds(30)
                    while !answered && ContinuousClock.now < deadline {
                        answered = (try? await client.send(.ping)) == "pong"
                    }
                    if !answered {
                        let console = (try? String(contentsOfFile: cpi.paths.vm(cid) + "/console.log", encoding: .utf8)) ?? "(no console log)"
                        Issue.record("the agent in the VM never answered; its console:\n\(console.suffix(3000))")
                        router.stop()
                        try await group.waitForAll()
                        return
                    }
                    client.requestTimeout = .seconds(5)
                    let state = try await client.send(.getState(full: false))
                    #expect(state["agent_id"] == "agent-7")
                    try await exerciseDisks(cpi: cpi, vm: cid, client: client)
                    try await exerciseApplyAndReaping(cpi: cpi, vm: cid, client: client, blobstore: blobstore.running)
                    router.stop()
                    try await group.waitForAll()
                }
            }
            // The mounts inside the VM, seen through its main process.
            let pid = try await cpi.containerPID(cid)
            let mounts = try String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)
            func tmpfs(at path: String) -> String? {
                mounts.split(separator: "\n").first { $0.split(separator: " ")[4] == path && $0.contains(" - tmpfs ") }.map(String.init)
            }
            #expect(tmpfs(at: "/var/vcap/data/jobs")?.contains("size=32768k") == true, "\(mounts)")
            #expect(tmpfs(at: "/var/vcap/data/sensitive_blobs") != nil)
            #expect(tmpfs(at: "/var/vcap/bosh/settings") != nil)
            #expect(tmpfs(at: "/var/vcap/data/sys/run") != nil)
            // The agent's copy of its private key lives in that tmpfs, not on the host's disk.
            #expect(!FileManager.default.fileExists(atPath: cpi.paths.vm(cid) + "/vcap/bosh/settings/mbus-key.pem"))
            server.stop()
            await blobstore.stop()
        } catch {
            await blobstoreToStop?.stop()
            if let vm { try? await cpi.deleteVM(vm) }
            _ = try? await HostCommand.run("/usr/sbin/ip", ["link", "del", cpi.configuration.bridgeName])
            throw error
        }
        if let vm { try await cpi.deleteVM(vm) }
        _ = try? await HostCommand.run("/usr/sbin/ip", ["link", "del", cpi.configuration.bridgeName])
    }
}
