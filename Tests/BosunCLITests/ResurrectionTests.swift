import BosunCore
import Foundation
import Testing
import TestSupport

/// Issue 10's health monitor and resurrector end to end: VMs killed behind the director's back
/// come back with their data; several dying together are a meltdown and are left alone. Agents
/// heartbeat every second and time out after 5 s here (60 s by default). Needs root.
@Suite("resurrection", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct ResurrectionTests {
    typealias Bed = DeployTests.Bed

    /// Kills a VM's container as a crash would: the agent and jobs die, the VM stays listed.
    static func kill(_ bed: Bed, _ cids: [String]) async throws {
        for cid in cids {
            _ = try await BosunBinary.runProgram("/usr/sbin/runc", ["--root", bed.runtimeRoot, "kill", cid, "KILL"], in: bed.scratch.url)
        }
    }

    @Test("a killed VM is left alone while resurrection is paused, then recreated with its disk's data; three of five killed at once is a meltdown and nothing is recreated")
    func killedVMsComeBackUnlessMeltdown() async throws {
        try await Bed.with(
            directorConfig: "hm: {agent_timeout: 5, analysis_interval: 1, minimum_down_jobs: 3, percent_threshold: 0.5}",
            cpiConfig: "agent_heartbeat_seconds: 1"
        ) { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            let deploy = try await bed.deploy(bed.manifest(instances: 5))
            #expect(deploy.status == 0, "\(deploy.stdout)")
            let before = try await bed.vmCIDs()
            let victim = try #require(before.keys.sorted().first)
            let victimVM = try #require(before[victim])
            _ = try await bed.inVM(victimVM, "echo kept > /var/vcap/store/greeter-data")

            // A job's process dies: the agent restarts it and its alert is an event.
            _ = try await bed.inVM(victimVM, "kill -9 $(cat /var/vcap/sys/run/greeter/greeter.pid)")
            var alerted = false
            for _ in 0..<40 where !alerted {
                try await Task.sleep(for: .milliseconds(250))
                alerted = try await bed.succeed(["events", "--json"]).contains("pid failed - restart")
            }
            #expect(alerted, "the agent's alert is recorded")

            // Paused: the dead VM is found and left alone, and the event says why.
            try await bed.succeed(["update-resurrection", "off"])
            let silenced = ContinuousClock.now
            try await Self.kill(bed, [victimVM])
            var skipped = false
            for _ in 0..<60 where !skipped {
                try await Task.sleep(for: .milliseconds(250))
                skipped = try await bed.succeed(["events", "--json"]).contains("resurrection is paused (bosun update-resurrection off)")
            }
            print("dead agent detected \(ContinuousClock.now - silenced) after the kill (agent_timeout 5 s, analysis every 1 s)")
            #expect(skipped)
            try await Task.sleep(for: .seconds(2))
            let beforeResume = try await Self.scanAndFixTasks(bed)
            #expect(beforeResume.allSatisfy { $0.state != "processing" && $0.state != "queued" }, "nothing recreated while paused")

            // Resumed: recreated, its data back, jobs running.
            try await bed.succeed(["update-resurrection", "on"])
            let killed = ContinuousClock.now
            // Polled through the task list: asking agents (`vms`, `instances`) waits on the dead one.
            var fixed = false
            for _ in 0..<600 where !fixed {
                try await Task.sleep(for: .milliseconds(100))
                fixed = try await Self.scanAndFixTasks(bed).contains { task in
                    task.state == "done" && !beforeResume.contains { $0.id == task.id }
                }
            }
            print("dead VM recreated and its jobs running (scan and fix done) \(ContinuousClock.now - killed) after resurrection was resumed")
            #expect(fixed)
            let newVM = try await bed.vmCIDs()[victim]
            #expect(newVM != victimVM)
            let state = (try await bed.instances().first { $0["instance"]?.stringValue == victim }?["process_state"]?.stringValue) ?? ""
            #expect(state == "running")
            let replacement = try #require(newVM, "\(victim) has a VM")
            #expect(try await bed.inVM(replacement, "cat /var/vcap/store/greeter-data") == "kept\n")
            let events = try await bed.succeed(["events", "--json"])
            #expect(events.contains("timed out: no heartbeat for"), "an alert names the timed-out agent")
            // A killed container is a VM the local CPI no longer has.
            #expect(events.contains("\"action\":\"recreate\"") && events.contains("the VM is gone from the IaaS"), "\(events.prefix(3000))")
            #expect(Set(try await bed.vmCIDs().filter { $0.key != victim }.values) == Set(before.filter { $0.key != victim }.values))

            // Three of five at once: a meltdown; announced, nothing recreated.
            let scansBeforeMeltdown = try await Self.scanAndFixTasks(bed).count
            let others = try await bed.vmCIDs().filter { $0.key != victim }.sorted { $0.key < $1.key }.prefix(3)
            try await Self.kill(bed, others.map(\.value))
            var meltdown = false
            for _ in 0..<60 where !meltdown {
                try await Task.sleep(for: .milliseconds(500))
                meltdown = try await bed.succeed(["events", "--json"]).contains("meltdown: ")
            }
            #expect(meltdown)
            try await Task.sleep(for: .seconds(4))
            let after = try await bed.vmCIDs()
            for (instance, cid) in others { #expect(after[instance] == cid, "\(instance) left alone in the meltdown") }
            // The monitor's view: the three shown as timed out, and counted in /metrics.
            let details = try await bed.succeed(["-d", "greet", "instances", "--details"])
            #expect(details.components(separatedBy: "(timed out)").count - 1 == 3, "\(details)")
            #expect(try await Self.metrics(bed).contains("bosun_agents_timed_out 3"))
            let scans = try await Self.scanAndFixTasks(bed)
            #expect(scans.count == scansBeforeMeltdown, "no scan and fix after the meltdown: \(scans)")
        }
    }

    /// Scan-and-fix tasks: id and state.
    static func scanAndFixTasks(_ bed: Bed) async throws -> [(id: String, state: String)] {
        let rows = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try await bed.succeed(["tasks", "-r", "--json"]).utf8))
        return (rows["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []).filter { $0["description"] == "scan and fix" }
            .map { ($0["id"]?.stringValue ?? "", $0["state"]?.stringValue ?? "") }
    }

    /// The persistent disk CID `instances --details` shows for an instance.
    static func diskCID(_ bed: Bed, instance: String) async throws -> String? {
        let output = try await bed.succeed(["-d", "greet", "instances", "--details", "--json"])
        let rows = try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        return rows.first { $0["instance"]?.stringValue == instance }?["disk_cids"]?.stringValue
    }

    /// `GET /metrics` with the admin's credentials.
    static func metrics(_ bed: Bed) async throws -> String {
        let environment = bed.director.environment
        let script = """
            import base64, ssl, sys, urllib.request
            context = ssl.create_default_context(cafile=sys.argv[2])
            request = urllib.request.Request("https://" + sys.argv[1] + "/metrics")
            request.add_header("Authorization", "Basic " + base64.b64encode(("admin:" + sys.argv[3]).encode()).decode())
            print(urllib.request.urlopen(request, context=context, timeout=10).read().decode())
            """
        return try await BosunBinary.runProgram(
            "/usr/bin/python3",
            ["-c", script, environment["BOSH_ENVIRONMENT"] ?? "", environment["BOSH_CA_CERT"] ?? "", environment["BOSH_CLIENT_SECRET"] ?? ""],
            in: bed.scratch.url
        ).stdout
    }

    @Test("cck --report lists a missing VM, an unresponsive agent, an unmounted disk, a lost disk and a VM the director forgot; cck --auto fixes them; logs of one and of all instances")
    func cloudCheckFindsAndFixes() async throws {
        try await Bed.with(directorConfig: "hm: {resurrector: false}") { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            let deploy = try await bed.deploy(bed.manifest(instances: 5))
            #expect(deploy.status == 0, "\(deploy.stdout)")
            let clean = try await bed.bosun(["-d", "greet", "cck", "--report"])
            #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
            let vms = try await bed.vmCIDs().sorted { $0.key < $1.key }
            #expect(vms.count == 5)
            let (missing, frozen, unmounted, diskless, forgotten) = (vms[0], vms[1], vms[2], vms[3], vms[4])
            _ = try await bed.inVM(unmounted.value, "echo kept > /var/vcap/store/greeter-data")

            try await Self.kill(bed, [missing.value])
            // Frozen (cgroup freezer): the VM is there, its agent does not answer.
            let pause = try await BosunBinary.runProgram("/usr/sbin/runc", ["--root", bed.runtimeRoot, "pause", frozen.value], in: bed.scratch.url)
            #expect(pause.status == 0, "\(pause.stderr)")
            _ = try await bed.inVM(unmounted.value, "umount -l /var/vcap/store")
            // The IaaS loses a disk (its image is deleted; the VM's loop device lives on).
            let disksDirectory = bed.scratch.url.path + "/cpi/disks"
            let images = try FileManager.default.contentsOfDirectory(atPath: disksDirectory).filter { $0.hasSuffix(".img") }
            let lostDisk = try #require(
                try await Self.diskCID(bed, instance: diskless.key), "the fourth instance's disk")
            #expect(images.contains(lostDisk + ".img"))
            try FileManager.default.removeItem(atPath: disksDirectory + "/" + lostDisk + ".img")
            // The director forgets a VM (its database restored from an older backup, say).
            let forget = try await BosunBinary.runProgram(
                "/usr/bin/python3",
                ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('delete from vms where cid = ?', (sys.argv[2],)); c.commit()",
                 bed.scratch.url.path + "/state/director.sqlite", forgotten.value],
                in: bed.scratch.url)
            #expect(forget.status == 0, "\(forget.stderr)")

            let report = try await bed.bosun(["-d", "greet", "cck", "--report"])
            #expect(report.status == 1)
            for type in ["missing_vm", "unresponsive_agent", "mount_info_mismatch", "missing_disk", "unknown_vm"] {
                #expect(report.stdout.contains(type), "\(type) in \(report.stdout)")
            }
            #expect(report.stdout.contains("VM for '\(missing.key.split(separator: " ").first ?? "")"), "\(report.stdout)")
            #expect(report.stderr.contains("5 problems found"), "\(report.stderr)")
            #expect(report.stdout.contains("VM '\(forgotten.value)'"), "\(report.stdout)")

            let fixed = try await bed.bosun(["-n", "-d", "greet", "cck", "--auto"])
            #expect(fixed.status == 0, "\(fixed.stdout) \(fixed.stderr)")
            let after = try await bed.bosun(["-d", "greet", "cck", "--report"])
            #expect(after.status == 0, "\(after.stdout) \(after.stderr)")
            let rows = try await bed.instances()
            #expect(rows.count == 5 && rows.allSatisfy { $0["process_state"] == "running" }, "\(rows)")
            #expect(!(try await bed.containers()).contains(forgotten.value), "the forgotten VM was deleted")
            let now = try await bed.vmCIDs()
            #expect(now[missing.key] != missing.value && now[frozen.key] != frozen.value, "both VMs recreated")
            #expect(now[unmounted.key] == unmounted.value, "the disk was reattached, the VM kept")
            #expect(try await bed.inVM(unmounted.value, "cat /var/vcap/store/greeter-data") == "kept\n")

            // Recreated without waiting: the task ends once the jobs were started.
            let again = try #require(now[missing.key])
            try await Self.kill(bed, [again])
            let quick = try await bed.bosun(["-n", "-d", "greet", "cck", "--resolution", "recreate_vm_without_wait"])
            #expect(quick.status == 0, "\(quick.stdout) \(quick.stderr)")
            #expect(quick.stdout.contains("Recreate VM without waiting for processes to start"), "\(quick.stdout)")
            var running = false
            for _ in 0..<60 where !running {
                running = try await bed.instances().first { $0["instance"]?.stringValue == missing.key }?["process_state"] == "running"
                if !running { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(running)

            // Logs: one instance's job logs, then every instance's in one tarball.
            let logs = bed.scratch.url.path + "/logs"
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let one = try await bed.succeed(["-d", "greet", "logs", "greeter/0", "--dir", logs])
            #expect(one.contains("Downloading resource"), "\(one)")
            let files = try FileManager.default.contentsOfDirectory(atPath: logs)
            let single = try #require(files.first { $0.hasPrefix("greet.greeter.0-") && $0.hasSuffix(".tgz") }, "\(files)")
            let listing = try await BosunBinary.runProgram("/bin/tar", ["-tzf", logs + "/" + single], in: bed.scratch.url)
            #expect(listing.stdout.contains("greeter/greeter.stdout.log"), "\(listing.stdout)")
            _ = try await bed.succeed(["-d", "greet", "logs", "--dir", logs])
            let all = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first { $0.hasPrefix("greet-") }, "combined tarball")
            let combined = try await BosunBinary.runProgram("/bin/tar", ["-tzf", logs + "/" + all], in: bed.scratch.url)
            #expect(combined.stdout.split(separator: "\n").filter { $0.hasSuffix(".tgz") }.count == 5, "\(combined.stdout)")
        }
    }
}
