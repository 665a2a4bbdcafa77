import BosunCore
import Foundation
import Testing
import TestSupport

/// `vm_strategy: create-swap-delete` end to end on the local CPI, which can move addresses:
/// instances keep their IPs (static ones too), their data, and their downtime is measured; the
/// old VMs are orphaned and the scheduled cleanup deletes them; a director killed mid-swap
/// leaks nothing. Needs root.
@Suite("create-swap-delete", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct SwapTests {
    typealias Bed = DeployTests.Bed

    /// The example manifest with swaps, two servers on static IPs in one AZ (so both may be
    /// updated at once), and a VM type to change.
    static func manifest(_ base: String, bed: Bed, vmType: String) -> String {
        base
            .replacingOccurrences(of: "- name: kv-server\n  azs: [z1, z2]\n", with: "- name: kv-server\n  azs: [z1]\n")
            .replacingOccurrences(of: "  update_watch_time: 1000-30000\n", with: "  update_watch_time: 1000-30000\n  vm_strategy: create-swap-delete\n")
            .replacingOccurrences(
                of: "  instances: 3\n  vm_type: small\n  stemcell: default\n  persistent_disk_type: default\n  networks: [{name: default}]\n",
                with: "  instances: 2\n  vm_type: \(vmType)\n  stemcell: default\n  persistent_disk_type: default\n"
                    + "  networks: [{name: default, static_ips: [\(bed.subnet).10, \(bed.subnet).11]}]\n")
    }

    /// What `/var/vcap/store` holds, file by file, with checksums.
    static func storeDigest(_ bed: Bed, vm: String) async throws -> String {
        try await bed.inVM(vm, "cd /var/vcap/store && find . -type f ! -path './lost+found/*' | sort | xargs -r sha256sum")
    }

    /// The `lladdr` of an `ip neigh show` line, if any.
    static func mac(in neighbours: String) -> String? {
        let fields = neighbours.split(separator: " ")
        guard let position = fields.firstIndex(of: "lladdr"), position + 1 < fields.count else { return nil }
        return String(fields[position + 1])
    }

    static func orphanedVMs(_ bed: Bed) async throws -> [JSONValue] {
        let output = try await bed.succeed(["orphaned-vms", "--json"])
        return try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
    }

    @Test("a vm_type change swaps every server onto a new VM with the same static IP and the same data; old VMs are orphaned, then deleted by the cleanup; a director killed mid-swap leaks nothing")
    func swapKeepsAddressesAndData() async throws {
        // Room for four running VMs: the three instances and one replacement. The scheduled
        // cleanup stays out of the way until the test turns it on.
        try await Bed.with(directorConfig: "vms: {cleanup_interval: 3600}", cpiConfig: "max_vms: 4") { try await run($0) }
    }

    private func run(_ bed: Bed) async throws {
        try await DeployTests.prepare(bed)
        let base = try await DeployTests.uploadExampleRelease(bed)
        let first = try await bed.deployNamed("kv", Self.manifest(base, bed: bed, vmType: "small"))
        #expect(first.status == 0, "\(first.stdout)")
        let before = try await bed.instances(deployment: "kv").filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }
        let ips = Dictionary(uniqueKeysWithValues: before.map { ($0["instance"]?.stringValue ?? "", $0["ips"]?.stringValue ?? "") })
        #expect(Set(ips.values) == ["\(bed.subnet).10", "\(bed.subnet).11"], "\(ips)")
        let oldVMs = try await bed.vmCIDs(deployment: "kv").filter { $0.key.hasPrefix("kv-server/") }
        let anyVM = try #require(oldVMs.values.first)
        let config = try await bed.inVM(anyVM, "cat /var/vcap/jobs/kv-server/config/config.json")
        let password = try #require(try JSONCoding.decoder.decode(JSONValue.self, from: Data(config.utf8))["password"]?.stringValue)
        var digests: [String: String] = [:]
        for (instance, ip) in ips {
            #expect(try await bed.http("PUT", "http://\(ip):8080/kv/owner", body: instance, password: password) == "204")
            digests[instance] = try await Self.storeDigest(bed, vm: oldVMs[instance] ?? "")
            #expect(digests[instance]?.isEmpty == false)
        }

        // The smoke VM has talked to both servers: it knows their old VMs' MACs.
        let smokeVM = try #require(try await bed.vmCIDs(deployment: "kv").first { $0.key.hasPrefix("kv-smoke/") }?.value)
        var oldMACs: [String: String] = [:]
        for ip in ips.values {
            _ = try await bed.inVM(smokeVM, "/usr/bin/bash -c 'exec 3<>/dev/tcp/\(ip)/8080' || true")
            oldMACs[ip] = Self.mac(in: try await bed.inVM(smokeVM, "/usr/sbin/ip neigh show \(ip)"))
            #expect(oldMACs[ip] != nil, "the smoke VM has a neighbour entry for \(ip)")
        }

        // A dry run shows the plan and changes nothing.
        let medium = Self.manifest(base, bed: bed, vmType: "medium")
        let dry = try await bed.deployNamed("kv", medium, ["--dry-run"])
        #expect(dry.status == 0, "\(dry.stdout)")
        #expect(
            dry.stdout.contains("Planning update: kv-server: 2 VMs to replace by create-swap-delete, keeping their addresses (cloud properties changed)"),
            "\(dry.stdout)")
        #expect(dry.stdout.contains("Planning update: at worst 1 replacement VM next to the VMs they replace, 768 MB RAM"), "\(dry.stdout)")
        #expect(dry.stdout.contains("Dry run: nothing was changed"), "\(dry.stdout)")
        #expect(try await bed.vmCIDs(deployment: "kv").filter { $0.key.hasPrefix("kv-server/") } == oldVMs)
        #expect(try await bed.succeed(["-d", "kv", "manifest"]).contains("vm_type: small"))

        // Both servers at once need two replacement VMs; the CPI has room for one.
        let tooWide = try await bed.deployNamed("kv", medium, ["--canaries", "0", "--max-in-flight", "2"])
        #expect(tooWide.status == 1)
        #expect(tooWide.stdout.contains("2 replacement VMs at once, room for 1 (short by 1)"), "\(tooWide.stdout)")
        #expect(try await bed.vmCIDs(deployment: "kv").filter { $0.key.hasPrefix("kv-server/") } == oldVMs)

        // The swap, one at a time as --fit-surge chooses: new VMs, same addresses, same data,
        // downtime measured per instance.
        let swapped = try await bed.deployNamed("kv", medium, ["--canaries", "0", "--max-in-flight", "2", "--fit-surge"])
        #expect(swapped.stdout.contains("surge lowered to 1 swap at once per group to fit"), "\(swapped.stdout)")
        #expect(swapped.status == 0, "\(swapped.stdout)")
        #expect(swapped.stdout.contains("Downtime: 2 instances stopped and started: jobs down"), "\(swapped.stdout)")
        let newVMs = try await bed.vmCIDs(deployment: "kv").filter { $0.key.hasPrefix("kv-server/") }
        #expect(Set(newVMs.values).isDisjoint(with: Set(oldVMs.values)), "\(newVMs) vs \(oldVMs)")
        let after = try await bed.instances(deployment: "kv").filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }
        #expect(after.allSatisfy { $0["process_state"] == "running" }, "\(after)")
        for row in after {
            let instance = row["instance"]?.stringValue ?? ""
            #expect(row["ips"]?.stringValue == ips[instance], "\(instance) kept its address")
            let ip = ips[instance] ?? ""
            #expect(try await bed.http("GET", "http://\(ip):8080/kv/owner", password: password) == "200 \(instance)")
            #expect(try await Self.storeDigest(bed, vm: newVMs[instance] ?? "") == digests[instance], "\(instance)'s data")
        }

        // Peers were told to forget the moved addresses: none still points at an old VM's MAC.
        for (ip, old) in oldMACs {
            let now = Self.mac(in: try await bed.inVM(smokeVM, "/usr/sbin/ip neigh show \(ip)"))
            #expect(now != old, "the smoke VM no longer sends \(ip)'s packets to the old VM")
        }

        // Both old VMs were orphaned; the cleanup is off, so they are still there — unless the
        // second swap found the first one's orphan still shutting down in the last free slot and
        // deleted it to make room.
        let madeRoom = swapped.stdout.components(separatedBy: "Deleting orphaned VMs to make room").count - 1
        var orphans = try await Self.orphanedVMs(bed)
        #expect(orphans.count + madeRoom == 2, "\(orphans)\n\(swapped.stdout)")

        // With the scheduled cleanup every 2 s (after a director restart), the last one goes too.
        let configPath = bed.scratch.url.path + "/state/config.yml"
        let directorConfig = try String(contentsOfFile: configPath, encoding: .utf8)
        try directorConfig.replacingOccurrences(of: "cleanup_interval: 3600", with: "cleanup_interval: 2")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        bed.director.stop()
        try await bed.director.start()
        for _ in 0..<60 where !orphans.isEmpty {
            try await Task.sleep(for: .seconds(1))
            orphans = try await Self.orphanedVMs(bed)
        }
        #expect(orphans.isEmpty, "\(orphans)")
        let running = Set(try await bed.containers())
        #expect(running.isDisjoint(with: Set(oldVMs.values)), "old VMs are gone: \(running)")

        // A bigger disk: a new one per instance, the data migrated (same checksums), the old
        // disks orphaned with theirs.
        let larger = try await bed.deployNamed(
            "kv", medium.replacingOccurrences(of: "  persistent_disk_type: default\n", with: "  persistent_disk_type: large\n"))
        #expect(larger.status == 0, "\(larger.stdout)")
        let grownVMs = try await bed.vmCIDs(deployment: "kv").filter { $0.key.hasPrefix("kv-server/") }
        for (instance, vm) in grownVMs {
            #expect(try await Self.storeDigest(bed, vm: vm) == digests[instance], "\(instance)'s data after the disk grew")
            #expect(try await bed.http("GET", "http://\(ips[instance] ?? ""):8080/kv/owner", password: password) == "200 \(instance)")
        }
        let oldDisks = try await DeployTests.orphanedDisks(bed)
        #expect(Set(oldDisks.compactMap { $0["instance"]?.stringValue }) == Set(ips.keys), "\(oldDisks)")

        // A director killed while a replacement VM boots: after a restart the next deploy
        // deletes that VM, finishes the update and leaks nothing.
        let vmsDirectory = bed.scratch.url.path + "/cpi/vms"
        let baseline = try FileManager.default.contentsOfDirectory(atPath: vmsDirectory).count
        let small = Self.manifest(base, bed: bed, vmType: "small")
            .replacingOccurrences(of: "  persistent_disk_type: default\n", with: "  persistent_disk_type: large\n")
        let interrupted = Task { try await bed.deployNamed("kv", small) }
        for _ in 0..<600 {
            if (try FileManager.default.contentsOfDirectory(atPath: vmsDirectory).count) > baseline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        bed.director.kill9()
        _ = try? await interrupted.value
        try await bed.director.start()
        let resumed = try await bed.deployNamed("kv", small)
        #expect(resumed.status == 0, "\(resumed.stdout)")
        let final = try await bed.instances(deployment: "kv")
        #expect(final.allSatisfy { $0["process_state"] == "running" }, "\(final)")
        for row in final where (row["instance"]?.stringValue ?? "").hasPrefix("kv-server/") {
            let instance = row["instance"]?.stringValue ?? ""
            #expect(row["ips"]?.stringValue == ips[instance])
            #expect(try await bed.http("GET", "http://\(ips[instance] ?? ""):8080/kv/owner", password: password) == "200 \(instance)")
        }
        for _ in 0..<60 where !(try await Self.orphanedVMs(bed)).isEmpty { try await Task.sleep(for: .seconds(1)) }
        let deployed = Set(try await bed.vmCIDs(deployment: "kv").values)
        #expect(Set(try await bed.containers()) == deployed, "only the deployment's VMs run")

        try await bed.succeed(["-n", "-d", "kv", "delete-deployment"])
        #expect(try await bed.containers().isEmpty)
        #expect(try await bed.loopDevices().isEmpty)
    }

    @Test("with a CPI that cannot move addresses: static-IP servers fall back to delete-create, the dynamic-IP group swaps onto a new address, its old VM orphaned with the old one until clean-up")
    func swapWithoutMovingAddresses() async throws {
        try await Bed.with(cpiConfig: "move_address: false") { bed in
            try await DeployTests.prepare(bed)
            let base = try await DeployTests.uploadExampleRelease(bed)
            func manifest(_ vmType: String) -> String {
                Self.manifest(base, bed: bed, vmType: vmType)
                    .replacingOccurrences(of: "- name: kv-smoke\n  azs: [z1]\n  instances: 1\n  vm_type: small\n",
                                          with: "- name: kv-smoke\n  azs: [z1]\n  instances: 1\n  vm_type: \(vmType)\n")
            }
            #expect(try await bed.deployNamed("kv", manifest("small")).status == 0)
            let before = try await bed.instances(deployment: "kv")
            let ips = Dictionary(uniqueKeysWithValues: before.map { ($0["instance"]?.stringValue ?? "", $0["ips"]?.stringValue ?? "") })
            let oldVMs = try await bed.vmCIDs(deployment: "kv")

            let swapped = try await bed.deployNamed("kv", manifest("medium"))
            #expect(swapped.status == 0, "\(swapped.stdout)")
            #expect(swapped.stdout.contains(
                "kv-server: 2 VMs to replace by create-swap-delete → delete-create (static IPs, the CPI cannot move addresses)"), "\(swapped.stdout)")
            #expect(swapped.stdout.contains(
                "kv-smoke: 1 VM to replace by create-swap-delete with new addresses (the CPI cannot move addresses)"), "\(swapped.stdout)")
            let after = try await bed.instances(deployment: "kv")
            #expect(after.allSatisfy { $0["process_state"] == "running" }, "\(after)")
            let newVMs = try await bed.vmCIDs(deployment: "kv")
            #expect(Set(newVMs.values).isDisjoint(with: Set(oldVMs.values)))
            var smokeOldIP = ""
            for row in after {
                let instance = row["instance"]?.stringValue ?? ""
                if instance.hasPrefix("kv-server/") {
                    #expect(row["ips"]?.stringValue == ips[instance], "static addresses stay")
                } else {
                    smokeOldIP = ips[instance] ?? ""
                    #expect(row["ips"]?.stringValue != smokeOldIP, "the swapped smoke instance has a new address")
                }
            }
            // Only the swapped VM is orphaned (delete-create deleted the servers' old VMs), holding the old address.
            let orphans = try await Self.orphanedVMs(bed)
            #expect(orphans.count == 1, "\(orphans)")
            #expect(orphans.first?["ips"]?.stringValue == smokeOldIP, "\(orphans)")
            try await bed.succeed(["-n", "clean-up"])
            #expect(try await Self.orphanedVMs(bed).isEmpty)
            #expect(Set(try await bed.containers()) == Set(newVMs.values))

            try await bed.succeed(["-n", "-d", "kv", "delete-deployment"])
            #expect(try await bed.containers().isEmpty)
        }
    }
}
