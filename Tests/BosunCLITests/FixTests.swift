import BosunCore
import Foundation
import TestSupport
import Testing

/// `deploy --fix`, `recreate --fix` and `deploy --recreate-persistent-disks` against the local
/// CPI, with the resurrector off so only the commands heal. Needs root.
@Suite("fix and recreate persistent disks", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct FixTests {
    typealias Bed = DeployTests.Bed

    /// `instances --details` rows: instance → its persistent disk CID.
    static func diskCIDs(_ bed: Bed) async throws -> [String: String] {
        let output = try await bed.succeed(["-d", "greet", "instances", "--details", "--json"])
        let rows = try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        var disks: [String: String] = [:]
        for row in rows { disks[row["instance"]?.stringValue ?? ""] = row["disk_cids"]?.stringValue }
        return disks
    }

    @Test("--recreate-persistent-disks moves every instance's data to a new disk; deploy --fix replaces a VM that is gone, recreate --fix one whose agent is stopped; data stays")
    func fixAndRecreateDisks() async throws {
        try await Bed.with(directorConfig: "hm: {resurrector: false}") { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            let manifest = bed.manifest(instances: 2)
            #expect(try await bed.deploy(manifest).status == 0)
            let vms = try await bed.vmCIDs()
            for (instance, cid) in vms { _ = try await bed.inVM(cid, "echo \(instance) > /var/vcap/store/owner") }
            let disks = try await Self.diskCIDs(bed)
            #expect(disks.count == 2 && disks.values.allSatisfy { !$0.isEmpty }, "\(disks)")

            // New disks, same data, same VMs; the old disks are orphaned.
            let recreated = try await bed.deploy(manifest, ["--recreate-persistent-disks"])
            #expect(recreated.status == 0, "\(recreated.stdout)")
            let newDisks = try await Self.diskCIDs(bed)
            #expect(Set(newDisks.values).isDisjoint(with: Set(disks.values)), "\(newDisks) vs \(disks)")
            #expect(try await bed.vmCIDs() == vms)
            for (instance, cid) in vms { #expect(try await bed.inVM(cid, "cat /var/vcap/store/owner") == "\(instance)\n") }
            #expect(Set(try await DeployTests.orphanedDisks(bed).compactMap { $0["disk_cid"]?.stringValue }) == Set(disks.values))

            // A VM gone behind the director's back: a plain deploy changes nothing, --fix replaces it.
            let (lost, lostVM) = try #require(vms.sorted { $0.key < $1.key }.first)
            _ = try await BosunBinary.runProgram("/usr/sbin/runc", ["--root", bed.runtimeRoot, "kill", lostVM, "KILL"], in: bed.scratch.url)
            for _ in 0..<50 where (try await bed.inVM(lostVM, "echo up")) == "up\n" { try await Task.sleep(for: .milliseconds(100)) }
            let fixed = try await bed.deploy(manifest, ["--fix"])
            #expect(fixed.status == 0, "\(fixed.stdout)")
            #expect(fixed.stdout.contains("Deleting dead VM greeter: \(lost)"), "\(fixed.stdout)")
            #expect(fixed.stdout.contains("Planning update: greeter: 1 VM to create for an instance without one"), "\(fixed.stdout)")
            let afterFix = try await bed.vmCIDs()
            #expect(afterFix[lost] != nil && afterFix[lost] != lostVM, "\(afterFix)")
            #expect(try await bed.inVM(afterFix[lost] ?? "", "cat /var/vcap/store/owner") == "\(lost)\n")
            #expect(try await bed.instances().allSatisfy { $0["process_state"] == "running" })

            // An agent that no longer answers (stopped with SIGSTOP; its VM still runs): recreate
            // --fix deletes that VM and gives the instance a new one.
            let (frozen, frozenVM) = try #require(afterFix.sorted { $0.key < $1.key }.last)
            let stopped = try await bed.inVM(
                frozenVM,
                "for p in $(pgrep -x bosun-agent); do [ \"$p\" != 1 ] && kill -STOP $p && sleep 0.2 && grep -q 'T (stopped)' /proc/$p/status && echo stopped; done")
            #expect(stopped.contains("stopped"), "the agent in \(frozenVM) is stopped: \(stopped)")
            let healed = try await bed.bosun(["-n", "-d", "greet", "recreate", frozen, "--fix"])
            #expect(healed.status == 0, "\(healed.stdout)")
            #expect(healed.stdout.contains("Deleting dead VM greeter: \(frozen)") && healed.stdout.contains("the agent does not answer"), "\(healed.stdout)")
            let afterRecreate = try await bed.vmCIDs()
            #expect(afterRecreate[frozen] != nil && afterRecreate[frozen] != frozenVM, "\(afterRecreate)")
            #expect(try await bed.inVM(afterRecreate[frozen] ?? "", "cat /var/vcap/store/owner") == "\(frozen)\n")
            #expect(Set(try await bed.containers()) == Set(afterRecreate.values), "no VM left behind")

            try await bed.succeed(["-n", "-d", "greet", "delete-deployment"])
            try await bed.succeed(["-n", "clean-up", "--all"])
            #expect(try await bed.containers().isEmpty)
            #expect(try await bed.loopDevices().isEmpty)
        }
    }
}
