import BosunCore
import Foundation
import TestSupport
import Testing

/// `bosun deploy` end to end on this machine: a real director process with its own nats-server,
/// the local CPI making containers on a bridge of this run's own, agents in them, packages
/// compiled from source on compilation VMs, templates rendered with Ruby. Needs root.
@Suite("deploy", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct DeployTests {
    /// The stemcell and cloud config every deploy here needs.
    static func prepare(_ bed: Bed) async throws {
        let stemcellBuild = try await BosunBinary.runProgram(
            BuiltProduct.path("bosun-local-cpi"), ["build-stemcell", bed.scratch.url.path, "1"], in: bed.scratch.url)
        #expect(stemcellBuild.status == 0, "\(stemcellBuild.stderr)")
        try bed.scratch.write("cloud.yml", bed.cloudConfig())
        try await bed.succeed(["-n", "update-cloud-config", bed.scratch.url.path + "/cloud.yml"])
        try await bed.succeed(["-n", "upload-stemcell", bed.scratch.url.path + "/bosun-local-stemcell-1.tgz"])
    }

    @Test(
        "the example release: built by create-release, its Go server compiled from source, answering on every instance with the generated password; a template error touches no VM"
    )
    func exampleRelease() async throws {
        try await Bed.with { try await runExample($0) }
    }

    /// Builds the example kv release with `create-release`, uploads it and returns the example manifest.
    static func uploadExampleRelease(_ bed: Bed) async throws -> String {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("examples")
        let release = bed.scratch.url.path + "/kv-release"
        try FileManager.default.copyItem(atPath: examples.path + "/kv-release", toPath: release)
        let created = try await bed.succeed([
            "create-release", "--dir", release, "--force", "--tarball", bed.scratch.url.path + "/kv.tgz",
        ])
        #expect(created.contains("Added package 'kv-server/"), "\(created)")
        try await bed.succeed(["-n", "upload-release", bed.scratch.url.path + "/kv.tgz"])
        return try String(contentsOfFile: examples.path + "/manifests/kv.yml", encoding: .utf8)
    }

    private func runExample(_ bed: Bed) async throws {
        try await Self.prepare(bed)
        let manifest = try await Self.uploadExampleRelease(bed)

        // Without the password the kv-server template cannot render: the deploy stops there.
        let broken = try await bed.deployNamed(
            "kv", manifest.replacingOccurrences(of: "      password: ((kv_password))\n", with: ""))
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("Unable to render jobs"), "\(broken.stdout)")
        #expect(broken.stdout.contains("Can't find property 'password'"), "\(broken.stdout)")
        #expect(try await bed.vmCIDs(deployment: "kv").isEmpty)

        let deployed = try await bed.deployNamed("kv", manifest)
        #expect(deployed.status == 0, "\(deployed.stdout)")
        let rows = try await bed.instances(deployment: "kv")
        #expect(rows.count == 4, "\(rows)")
        #expect(rows.allSatisfy { $0["process_state"] == "running" }, "\(rows)")
        let servers = rows.filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }.compactMap {
            $0["ips"]?.stringValue
        }
        #expect(servers.count == 3)
        let cids = try await bed.vmCIDs(deployment: "kv")
        let serverVM = try #require(cids.first { $0.key.hasPrefix("kv-server/") }?.value)
        let config = try await bed.inVM(serverVM, "cat /var/vcap/jobs/kv-server/config/config.json")
        let password = try #require(
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(config.utf8))["password"]?.stringValue)
        #expect(password.count == 20)
        #expect(!deployed.stdout.contains(password), "the password never shows in the task output")
        for (position, ip) in servers.enumerated() {
            let put = try await bed.http(
                "PUT", "http://\(ip):8080/kv/greeting", body: "hello \(position)", password: password)
            #expect(put == "204", "PUT on \(ip): \(put)")
            let get = try await bed.http("GET", "http://\(ip):8080/kv/greeting", password: password)
            #expect(get == "200 hello \(position)", "GET on \(ip): \(get)")
            let denied = try await bed.http("GET", "http://\(ip):8080/kv/greeting", password: "wrong")
            #expect(denied.hasPrefix("401"), "wrong password on \(ip): \(denied)")
        }
        try await bed.succeed(["-n", "-d", "kv", "delete-deployment"])
        #expect(try await bed.containers().isEmpty)
    }

    @Test(
        "deploy compiles, renders, starts; no-op redeploy; bad manifest touches nothing; disk survives recreate; property roll; scale frees IPs; delete leaves nothing"
    )
    func deployAndDelete() async throws {
        try await Bed.with { try await run($0) }
    }

    private func run(_ bed: Bed) async throws {
        try await Self.prepare(bed)
        try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])

        try bed.scratch.write("greet.yml", bed.manifest(instances: 2))
        let deploy = try await bed.succeed(["-n", "-d", "greet", "deploy", bed.scratch.url.path + "/greet.yml"])
        #expect(deploy.contains("Compiling packages: libgreet/"), "\(deploy)")
        #expect(deploy.contains("Compiling packages: greeter/"), "\(deploy)")
        #expect(deploy.contains("Updating instance greeter: greeter/"), "\(deploy)")
        let rows = try await bed.instances()
        #expect(rows.count == 2, "\(rows)")
        #expect(rows.allSatisfy { $0["process_state"] == "running" }, "\(rows)")
        #expect(Set(rows.compactMap { $0["az"]?.stringValue }) == ["z1", "z2"])
        #expect(rows.allSatisfy { ($0["ips"]?.stringValue ?? "").hasPrefix(bed.subnet + ".") })
        let vmRows = try JSONCoding.decoder.decode(
            JSONValue.self, from: Data(try await bed.succeed(["-d", "greet", "vms", "--json"]).utf8))
        #expect(
            vmRows["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue?.map { $0["vm_type"] } == ["small", "small"],
            "the group's vm_type")
        let deployments = try await bed.succeed(["deployments"])
        #expect(deployments.contains("greet") && deployments.contains("dummy/0+dev.1"), "\(deployments)")
        let manifest = try await bed.succeed(["-d", "greet", "manifest"])
        #expect(manifest.contains("((greeter-secret))"), "the stored manifest keeps the variable, not its value")

        // Nothing changed: no instance is touched.
        let again = try await bed.succeed(["-n", "-d", "greet", "deploy", bed.scratch.url.path + "/greet.yml"])
        #expect(!again.contains("Updating instance"), "\(again)")
        #expect(!again.contains("Compiling packages"), "\(again)")

        // A manifest error fails before any VM is touched.
        let vmsBefore = try await bed.vmCIDs()
        let bad = try await bed.deploy(bed.manifest(instances: 3, vmType: "enormous"))
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("unknown VM type \"enormous\""), "\(bad.stdout)")
        #expect(try await bed.vmCIDs() == vmsBefore)

        // Data on the persistent disk survives a recreate; the VMs are new.
        let first = try #require(vmsBefore.values.sorted().first)
        _ = try await bed.inVM(first, "echo kept > /var/vcap/store/greeter-data")
        let instanceOfFirst = try #require(vmsBefore.first { $0.value == first }?.key)
        let recreate = try await bed.deploy(bed.manifest(instances: 2), ["--recreate"])
        #expect(recreate.status == 0, "\(recreate.stdout)")
        let vmsAfter = try await bed.vmCIDs()
        #expect(Set(vmsAfter.values).isDisjoint(with: Set(vmsBefore.values)), "\(vmsAfter) vs \(vmsBefore)")
        let newVM = try #require(vmsAfter[instanceOfFirst])
        #expect(try await bed.inVM(newVM, "cat /var/vcap/store/greeter-data") == "kept\n")

        // A property change rolls through every instance; the rendered config says so.
        let rolled = try await bed.deploy(bed.manifest(instances: 2, who: "everyone"))
        #expect(rolled.status == 0, "\(rolled.stdout)")
        #expect(rolled.stdout.components(separatedBy: "Updating instance greeter:").count - 1 == 2, "\(rolled.stdout)")
        // The plan printed is the one carried out: the two in-place updates are announced.
        #expect(rolled.stdout.contains("Planning update: greeter: 2 to update in place"), "\(rolled.stdout)")
        for cid in try await bed.vmCIDs().values {
            #expect(try await bed.inVM(cid, "cat /var/vcap/jobs/greeter/config/greeter.conf").contains("who=everyone"))
        }

        // Scaling 2 -> 3 -> 1 -> 2: addresses of deleted instances are freed and taken again.
        // Scaling down keeps the deleted instances' data on orphaned disks.
        #expect(try await bed.deploy(bed.manifest(instances: 3, who: "everyone")).status == 0)
        let three = try await bed.instances()
        #expect(three.count == 3)
        for (instance, cid) in try await bed.vmCIDs() {
            _ = try await bed.inVM(cid, "echo \(instance) > /var/vcap/store/owner")
        }
        #expect(try await bed.deploy(bed.manifest(instances: 1, who: "everyone")).status == 0)
        let one = try await bed.instances()
        #expect(one.count == 1)
        let orphanedDisks = try await Self.orphanedDisks(bed)
        let scaledAway = Set(three.compactMap { $0["instance"]?.stringValue }).subtracting(
            one.compactMap { $0["instance"]?.stringValue })
        #expect(Set(orphanedDisks.compactMap { $0["instance"]?.stringValue }) == scaledAway, "\(orphanedDisks)")
        let freed = Set(three.compactMap { $0["ips"]?.stringValue }).subtracting(
            one.compactMap { $0["ips"]?.stringValue })
        #expect(freed.count == 2)
        #expect(try await bed.deploy(bed.manifest(instances: 2, who: "everyone")).status == 0)
        let two = try await bed.instances()
        #expect(two.count == 2)
        #expect(
            two.contains { freed.contains($0["ips"]?.stringValue ?? "") }, "a freed address is handed out again: \(two)"
        )

        // A runtime config's addon puts its job on the instance groups it includes.
        try bed.scratch.write(
            "runtime.yml",
            """
            releases: [{name: dummy, version: 0+dev.1}]
            addons:
            - name: checks
              jobs: [{name: checker, release: dummy}]
              include: {instance_groups: [greeter]}

            """)
        try await bed.succeed(["-n", "update-runtime-config", bed.scratch.url.path + "/runtime.yml"])
        let withAddon = try await bed.deploy(bed.manifest(instances: 2, who: "everyone"))
        #expect(withAddon.status == 0, "\(withAddon.stdout)")
        for cid in try await bed.vmCIDs().values {
            #expect(
                try await bed.inVM(cid, "test -x /var/vcap/jobs/checker/bin/run && echo installed") == "installed\n")
        }

        // The addon's job is an errand colocated on the greeters: run it everywhere it is.
        let errand = try await bed.succeed(["-d", "greet", "run-errand", "checker", "--json"])
        let runs =
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(errand.utf8))["Tables"]?.arrayValue?.first?[
                "Rows"]?.arrayValue ?? []
        #expect(runs.count == 2, "\(errand)")
        #expect(
            runs.allSatisfy { $0["exit_code"] == "0" && ($0["stdout"]?.stringValue ?? "").contains("greets everyone") },
            "\(runs)")
        // --instance: only there.
        let only = try #require(two.first?["instance"]?.stringValue)
        let single = try await bed.succeed(["-d", "greet", "run-errand", "checker", "--instance", only, "--json"])
        let oneRun =
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(single.utf8))["Tables"]?.arrayValue?.first?[
                "Rows"]?.arrayValue ?? []
        #expect(oneRun.count == 1 && oneRun.first?["instance"]?.stringValue == only, "\(oneRun)")
        // An errand instance group: a VM made for the run, the errand's output, the VM gone again.
        let vmsBeforeErrand = try await bed.vmCIDs()
        let smokeText = try await bed.bosun(["-d", "greet", "run-errand", "smoke"])
        #expect(smokeText.status == 0, "\(smokeText.stdout)\(smokeText.stderr)")
        let smoke = try await bed.succeed(["-d", "greet", "run-errand", "smoke", "--json"])
        let smokeRuns =
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(smoke.utf8))["Tables"]?.arrayValue?.first?["Rows"]?
            .arrayValue ?? []
        #expect(smokeRuns.count == 1 && smokeRuns.first?["exit_code"] == "0", "\(smoke)")
        #expect(smokeRuns.first?["stdout"]?.stringValue?.contains("greets everyone") == true, "\(smokeRuns)")
        #expect(smokeRuns.first?["instance"]?.stringValue?.hasPrefix("smoke/") == true)
        #expect(try await bed.vmCIDs() == vmsBeforeErrand)
        #expect(try await bed.instances().count == 2)
        // --keep-alive: the errand's VM stays and the next run reuses it; a run without deletes it.
        try await bed.succeed(["-d", "greet", "run-errand", "smoke", "--keep-alive"])
        let kept = try await bed.vmCIDs().filter { $0.key.hasPrefix("smoke/") }
        #expect(kept.count == 1, "\(kept)")
        let rerun = try await bed.succeed(["-d", "greet", "run-errand", "smoke", "--keep-alive", "--json"])
        #expect(rerun.contains("greets everyone"), "\(rerun)")
        #expect(try await bed.vmCIDs().filter { $0.key.hasPrefix("smoke/") } == kept, "the kept VM is reused")
        try await bed.succeed(["-d", "greet", "run-errand", "smoke"])
        #expect(try await bed.vmCIDs() == vmsBeforeErrand)
        // --when-changed: each errand last succeeded everywhere with what it has now: skipped,
        // the errand group without making a VM. A change to what they see makes them run again.
        for errand in ["checker", "smoke"] {
            let skipped = try await bed.bosun(["-d", "greet", "run-errand", errand, "--when-changed"])
            #expect(skipped.status == 0, "\(skipped.stdout)")
            #expect(
                skipped.stdout.contains("Skipping errand \(errand): nothing changed since its last successful run"),
                "\(skipped.stdout)")
            #expect(!skipped.stdout.contains("Running errand"), "\(skipped.stdout)")
        }
        #expect(try await bed.vmCIDs() == vmsBeforeErrand)
        #expect(try await bed.deploy(bed.manifest(instances: 2, who: "all")).status == 0)
        for errand in ["checker", "smoke"] {
            let changed = try await bed.succeed(["-d", "greet", "run-errand", errand, "--when-changed", "--json"])
            let rows =
                try JSONCoding.decoder.decode(JSONValue.self, from: Data(changed.utf8))["Tables"]?.arrayValue?.first?[
                    "Rows"]?.arrayValue ?? []
            #expect(
                rows.count == (errand == "checker" ? 2 : 1)
                    && rows.allSatisfy { $0["stdout"]?.stringValue?.contains("greets all") == true }, "\(changed)")
        }
        #expect(try await bed.vmCIDs().keys == vmsBeforeErrand.keys)
        let unknown = try await bed.bosun(["-d", "greet", "run-errand", "nope"])
        #expect(unknown.status == 1)
        #expect((unknown.stdout + unknown.stderr).contains("Errand 'nope' doesn't exist"), "\(unknown.stdout)")

        // stop / start one instance, stop --hard (VMs gone, disks and addresses kept), start, recreate one.
        let target =
            "greeter/" + (two.first?["instance"]?.stringValue?.split(separator: "/").last.map(String.init) ?? "")
        try await bed.succeed(["-n", "-d", "greet", "stop", target])
        #expect(
            try await bed.instances().first { $0["instance"]?.stringValue == target }?["process_state"] == "stopped")
        try await bed.succeed(["-n", "-d", "greet", "start", target])
        #expect(try await bed.instances().allSatisfy { $0["process_state"] == "running" })
        try await bed.succeed(["-n", "-d", "greet", "stop", "greeter", "--hard"])
        #expect(try await bed.vmCIDs().isEmpty)
        let detached = try await bed.instances()
        #expect(detached.count == 2 && detached.allSatisfy { $0["process_state"] == "" }, "\(detached)")
        #expect(try await bed.containers().isEmpty)
        // An orphaned disk given to a detached instance: its data is there after start; the
        // instance's own disk becomes an orphan in its place; delete-disk deletes one.
        let adopted = try #require(orphanedDisks.first)
        // orphan-disk on a disk already orphaned leaves it as it is (BOSH's warning), never deletes it;
        // delete-disk on an instance's own disk is refused.
        let orphanAgain = try await bed.succeed(["-n", "orphan-disk", adopted["disk_cid"]?.stringValue ?? ""])
        #expect(
            orphanAgain.contains(
                "Warning: Disk \(adopted["disk_cid"]?.stringValue ?? "") does not exist. Orphaning is skipped"),
            "\(orphanAgain)")
        #expect(try await Self.orphanedDisks(bed).count == orphanedDisks.count)
        let ownDisk =
            try await Self.deployedState(bed).first { $0.hasPrefix(target + " ") }?.split(separator: " ").dropFirst(2)
            .first.map(String.init) ?? ""
        let refusedDelete = try await bed.bosun(["-n", "delete-disk", ownDisk])
        #expect(
            refusedDelete.status == 1
                && (refusedDelete.stdout + refusedDelete.stderr).contains("Deleting persistent disk is not supported"),
            "\(ownDisk): \(refusedDelete.stdout)")
        try await bed.succeed(["-n", "-d", "greet", "attach-disk", target, adopted["disk_cid"]?.stringValue ?? ""])
        try await bed.succeed(["-n", "-d", "greet", "start"])
        let targetVM = try #require(try await bed.vmCIDs()[target])
        #expect(
            try await bed.inVM(targetVM, "cat /var/vcap/store/owner") == "\(adopted["instance"]?.stringValue ?? "")\n")
        let orphansNow = try await Self.orphanedDisks(bed)
        #expect(orphansNow.contains { $0["instance"]?.stringValue == target }, "\(orphansNow)")
        #expect(!orphansNow.contains { $0["disk_cid"] == adopted["disk_cid"] })
        let leftover = try #require(orphansNow.first { $0["instance"]?.stringValue != target })
        try await bed.succeed(["-n", "delete-disk", leftover["disk_cid"]?.stringValue ?? ""])
        #expect(try await Self.orphanedDisks(bed).count == orphansNow.count - 1)
        let woken = try await bed.instances()
        #expect(woken.allSatisfy { $0["process_state"] == "running" }, "\(woken)")
        #expect(
            Set(woken.compactMap { $0["ips"]?.stringValue }) == Set(two.compactMap { $0["ips"]?.stringValue }),
            "addresses kept")
        // restart follows the update policy: canary first (in the first AZ), then the other AZ.
        let restarted = try await bed.succeed(["-n", "-d", "greet", "restart"])
        #expect(restarted.components(separatedBy: "Restarting instance greeter:").count - 1 == 2, "\(restarted)")
        #expect(restarted.components(separatedBy: "(canary)").count - 1 == 1, "\(restarted)")
        // Dry runs change nothing: not the VMs, their disks and addresses, or the stored manifest.
        let untouched = try await Self.deployedState(bed)
        let dryRecreate = try await bed.succeed(["-n", "-d", "greet", "recreate", "--dry-run"])
        #expect(dryRecreate.contains("Dry run") && dryRecreate.contains("nothing was changed"), "\(dryRecreate)")
        #expect(!dryRecreate.contains("Updating instance"), "\(dryRecreate)")
        let dryStop = try await bed.succeed(["-n", "-d", "greet", "stop", target, "--dry-run"])
        #expect(dryStop.contains("would stop greeter/"), "\(dryStop)")
        let dryDeploy = try await bed.deploy(bed.manifest(instances: 3, who: "nobody"), ["--dry-run"])
        #expect(dryDeploy.status == 0 && dryDeploy.stdout.contains("nothing was changed"), "\(dryDeploy.stdout)")
        #expect(try await Self.deployedState(bed) == untouched)
        #expect(try await bed.instances().allSatisfy { $0["process_state"] == "running" })

        let beforeRecreate = try await bed.vmCIDs()
        let cutoff = ISO8601DateFormatter().string(from: Date())  // whole seconds: before the recreate starts
        try await bed.succeed(["-n", "-d", "greet", "recreate", target])
        let afterRecreate = try await bed.vmCIDs()
        #expect(afterRecreate[target] != beforeRecreate[target])
        #expect(afterRecreate.filter { $0.key != target } == beforeRecreate.filter { $0.key != target })
        // Only VMs older than the cutoff: the other instance's, not the one just recreated.
        try await bed.succeed(["-n", "-d", "greet", "recreate", "--vms-created-before", cutoff])
        let afterCutoff = try await bed.vmCIDs()
        #expect(afterCutoff[target] == afterRecreate[target])
        #expect(
            afterCutoff.filter { $0.key != target }.allSatisfy { afterRecreate[$0.key] != $0.value },
            "\(afterCutoff) vs \(afterRecreate)")

        // What the deployment uses cannot be deleted from under it (unless forced).
        let releaseInUse = try await bed.bosun(["-n", "delete-release", "dummy"])
        #expect(
            releaseInUse.status == 1 && releaseInUse.stdout.contains("Release 'dummy' is still in use by: greet"),
            "\(releaseInUse.stdout)")
        let stemcells = try await bed.succeed(["stemcells", "--json"])
        let stemcellRow = try #require(
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(stemcells.utf8))["Tables"]?.arrayValue?.first?[
                "Rows"]?.arrayValue?.first)
        let slug =
            "\(stemcellRow["name"]?.stringValue ?? "")/\((stemcellRow["version"]?.stringValue ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "*")))"
        let stemcellInUse = try await bed.bosun(["-n", "delete-stemcell", slug])
        #expect(
            stemcellInUse.status == 1 && stemcellInUse.stdout.contains("Stemcell '\(slug)' is still in use by: greet"),
            "\(stemcellInUse.stdout)")
        #expect(try await bed.succeed(["releases"]).contains("dummy"))

        try await bed.succeed(["-n", "-d", "greet", "delete-deployment"])
        #expect(try await bed.containers().isEmpty)
        #expect(try await bed.loopDevices().isEmpty)
        try await bed.succeed(["-n", "delete-release", "dummy"])
        let after = try await bed.succeed(["deployments", "--json"])
        #expect(!after.contains("\"greet\""), "\(after)")
        // The deleted deployment's disks are orphans until clean-up --all.
        #expect(try await Self.orphanedDisks(bed).count >= 2)
        try await bed.succeed(["-n", "clean-up", "--all"])
        #expect(try await Self.orphanedDisks(bed).isEmpty)
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: bed.scratch.url.path + "/cpi/disks"))?.filter {
                $0.hasSuffix(".img")
            } == [])
    }

    /// `disks --orphaned --json` rows.
    /// What a dry run must leave as it was: each instance's VM CID, disk CIDs and addresses
    /// (`instances --details`), and the stored manifest.
    static func deployedState(_ bed: Bed) async throws -> [String] {
        let output = try await bed.succeed(["-d", "greet", "instances", "--details", "--json"])
        let rows =
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?[
                "Rows"]?.arrayValue ?? []
        let instances = rows.map { row in
            ["instance", "vm_cid", "disk_cids", "ips"].map { key in
                let value = row[key]?.stringValue ?? ""
                return value.isEmpty ? "-" : value
            }.joined(separator: " ")
        }
        return instances.sorted() + [try await bed.succeed(["-d", "greet", "manifest"])]
    }

    static func orphanedDisks(_ bed: Bed) async throws -> [JSONValue] {
        let output = try await bed.succeed(["disks", "--orphaned", "--json"])
        return try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?[
            "Rows"]?.arrayValue ?? []
    }
}
