import BosunCore
import Foundation
import Testing
import TestSupport

/// `bosun deploy` end to end on this machine: a real director process with its own nats-server,
/// the local CPI making containers on a bridge of this run's own, agents in them, packages
/// compiled from source on compilation VMs, templates rendered with Ruby. Needs root.
@Suite("deploy", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct DeployTests {
    /// A director whose VMs live on a bridge and subnet unique to this run.
    final class Bed: @unchecked Sendable {
        let scratch: ScratchDirectory
        let token = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        let subnet = "10.\(Int.random(in: 100...199)).\(Int.random(in: 1...254))"
        var gateway: String { subnet + ".1" }
        var bridge: String { "bd" + String(token.prefix(8)) }
        var runtimeRoot: String { "/run/bosun-deploy-\(token)" }
        let director: DirectorCrashTests.DirectorProcess

        /// - Parameters:
        ///   - directorConfig: extra lines for the director's config.yml.
        ///   - cpiConfig: extra lines for the local CPI's config.
        init(directorConfig: String = "", cpiConfig: String = "") async throws {
            scratch = try ScratchDirectory()
            let state = scratch.url.path + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            let cpiConfig = try scratch.write("local-cpi.yml", """
                work_dir: \(scratch.url.path)/cpi
                bridge: bd\(token.prefix(8))
                agent_path: \(BuiltProduct.path("bosun-agent"))
                runtime_root: /run/bosun-deploy-\(token)
                \(cpiConfig)

                """)
            let port = try PostgresServerProcess.freePort()
            try """
                port: \(port)
                blobstore_port: \(try PostgresServerProcess.freePort())
                agent_address: \(subnet).1
                \(directorConfig.contains("nats:") ? "" : "nats: {port: 0}")
                cpi: {path: \(BuiltProduct.path("bosun-local-cpi")), config: \(cpiConfig)}
                \(directorConfig)

                """.write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
            director = DirectorCrashTests.DirectorProcess(state: state, port: port)
            try await director.start()
        }

        func bosun(_ arguments: [String]) async throws -> BosunBinary.Result {
            try await BosunBinary.runAsync(arguments, environment: director.environment, in: scratch.url)
        }

        /// Runs a command that must succeed; records its output otherwise.
        @discardableResult
        func succeed(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
            let result = try await bosun(arguments)
            #expect(result.status == 0, "bosun \(arguments.joined(separator: " ")):\n\(result.stdout)\n\(result.stderr)", sourceLocation: sourceLocation)
            return result.stdout
        }

        func cloudConfig() -> String {
            """
            azs: [{name: z1}, {name: z2}]
            vm_types: [{name: small, cloud_properties: {ram: 512}}, {name: medium, cloud_properties: {ram: 768}}]
            disk_types: [{name: small, disk_size: 64}, {name: default, disk_size: 64}, {name: large, disk_size: 96}]
            networks:
            - name: default
              type: manual
              subnets:
              - range: \(subnet).0/24
                gateway: \(gateway)
                reserved: [\(subnet).2 - \(subnet).9]
                static: [\(subnet).10 - \(subnet).19]
                azs: [z1, z2]
            compilation: {workers: 2, az: z1, vm_type: small, network: default, reuse_compilation_vms: true}

            """
        }

        func manifest(instances: Int, who: String = "operator", vmType: String = "small") -> String {
            """
            name: greet
            releases: [{name: dummy, version: latest}]
            stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
            update: {canaries: 1, max_in_flight: 2, canary_watch_time: 500-30000, update_watch_time: 500-30000}
            instance_groups:
            - name: greeter
              instances: \(instances)
              azs: [z1, z2]
              vm_type: \(vmType)
              stemcell: default
              persistent_disk_type: small
              networks: [{name: default}]
              jobs:
              - name: greeter
                release: dummy
                properties: {who: \(who), secret: ((greeter-secret))}
            - name: smoke
              lifecycle: errand
              instances: 1
              azs: [z1]
              vm_type: small
              stemcell: default
              networks: [{name: default}]
              jobs: [{name: checker, release: dummy}]
            variables:
            - name: greeter-secret
              type: password

            """
        }

        /// `instances --json` rows.
        func instances(deployment: String = "greet") async throws -> [JSONValue] {
            let output = try await succeed(["-d", deployment, "instances", "--json"])
            let document = try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))
            return document["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        }

        /// `vms --json` rows: instance → VM CID.
        func vmCIDs(deployment: String = "greet") async throws -> [String: String] {
            let output = try await succeed(["-d", deployment, "vms", "--json"])
            let rows = try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
            var cids: [String: String] = [:]
            for row in rows { cids[row["instance"]?.stringValue ?? ""] = row["vm_cid"]?.stringValue ?? "" }
            return cids
        }

        /// Runs a shell command inside a VM.
        func inVM(_ cid: String, _ command: String) async throws -> String {
            try await BosunBinary.runProgram("/usr/sbin/runc", ["--root", runtimeRoot, "exec", cid, "/bin/sh", "-c", command], in: scratch.url).stdout
        }

        func deploy(_ manifest: String, _ extra: [String] = []) async throws -> BosunBinary.Result {
            try await deployNamed("greet", manifest, extra)
        }

        func deployNamed(_ name: String, _ manifest: String, _ extra: [String] = []) async throws -> BosunBinary.Result {
            try scratch.write("\(name).yml", manifest)
            return try await bosun(["-n", "-d", name, "deploy", scratch.url.path + "/\(name).yml"] + extra)
        }

        /// An HTTP request from this host to a VM, as `"<status> <body>"` (python3's urllib).
        func http(_ method: String, _ url: String, body: String? = nil, password: String) async throws -> String {
            let script = """
                import base64, sys, urllib.request, urllib.error
                method, url, body, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
                request = urllib.request.Request(url, data=body.encode() if method == "PUT" else None, method=method)
                request.add_header("Authorization", "Basic " + base64.b64encode(("kv:" + password).encode()).decode())
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:
                        text = response.read().decode()
                        print(f"{response.status} {text}".strip(), end="")
                except urllib.error.HTTPError as error:
                    print(error.code, end="")
                """
            let result = try await BosunBinary.runProgram(
                "/usr/bin/python3", ["-c", script, method, url, body ?? "", password], in: scratch.url)
            return result.stdout + (result.status == 0 ? "" : " (python: \(result.stderr))")
        }

        /// Containers the OCI runtime still runs for this run.
        func containers() async throws -> [String] {
            guard FileManager.default.fileExists(atPath: runtimeRoot) else { return [] }
            let list = try await BosunBinary.runProgram("/usr/sbin/runc", ["--root", runtimeRoot, "list", "-q"], in: scratch.url)
            return list.stdout.split(separator: "\n").map(String.init)
        }

        /// Loop devices backed by this run's disk images.
        func loopDevices() async throws -> [String] {
            let list = try await BosunBinary.runProgram("/usr/sbin/losetup", ["-a"], in: scratch.url)
            return list.stdout.split(separator: "\n").map(String.init).filter { $0.contains(scratch.url.path) }
        }

        /// Runs `body` on a fresh bed and tears it down afterwards, whatever happened.
        static func with(directorConfig: String = "", cpiConfig: String = "", _ body: (Bed) async throws -> Void) async throws {
            let bed = try await Bed(directorConfig: directorConfig, cpiConfig: cpiConfig)
            do {
                try await body(bed)
            } catch {
                await bed.tearDown()
                throw error
            }
            await bed.tearDown()
        }

        func tearDown() async {
            director.stop()
            // A director that crashed leaves its nats-server behind (the next start would stop it).
            if let text = try? String(contentsOfFile: scratch.url.path + "/state/nats/nats-server.pid", encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), DirectorCrashTests.isAlive(pid),
                let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), command.contains(scratch.url.path)
            {
                kill(pid, SIGTERM)
            }
            for container in (try? await containers()) ?? [] {
                _ = try? await BosunBinary.runProgram("/usr/sbin/runc", ["--root", runtimeRoot, "delete", "-f", container], in: scratch.url)
            }
            for line in (try? await loopDevices()) ?? [] {
                if let device = line.split(separator: ":").first {
                    _ = try? await BosunBinary.runProgram("/usr/sbin/losetup", ["-d", String(device)], in: scratch.url)
                }
            }
            // Network namespaces of VMs a failed test left (the local CPI names them after the VM).
            for vm in (try? FileManager.default.contentsOfDirectory(atPath: scratch.url.path + "/cpi/vms")) ?? [] {
                _ = try? await BosunBinary.runProgram("/usr/sbin/ip", ["netns", "del", vm], in: scratch.url)
            }
            _ = try? await BosunBinary.runProgram("/usr/sbin/ip", ["link", "del", bridge], in: scratch.url)
            try? FileManager.default.removeItem(atPath: runtimeRoot)
        }
    }

    /// The stemcell and cloud config every deploy here needs.
    static func prepare(_ bed: Bed) async throws {
        let stemcellBuild = try await BosunBinary.runProgram(
            BuiltProduct.path("bosun-local-cpi"), ["build-stemcell", bed.scratch.url.path, "1"], in: bed.scratch.url)
        #expect(stemcellBuild.status == 0, "\(stemcellBuild.stderr)")
        try bed.scratch.write("cloud.yml", bed.cloudConfig())
        try await bed.succeed(["-n", "update-cloud-config", bed.scratch.url.path + "/cloud.yml"])
        try await bed.succeed(["-n", "upload-stemcell", bed.scratch.url.path + "/bosun-local-stemcell-1.tgz"])
    }

    @Test("the example release: built by create-release, its Go server compiled from source, answering on every instance with the generated password; a template error touches no VM")
    func exampleRelease() async throws {
        try await Bed.with { try await runExample($0) }
    }

    /// Builds the example kv release with `create-release`, uploads it and returns the example manifest.
    static func uploadExampleRelease(_ bed: Bed) async throws -> String {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples")
        let release = bed.scratch.url.path + "/kv-release"
        try FileManager.default.copyItem(atPath: examples.path + "/kv-release", toPath: release)
        let created = try await bed.succeed(["create-release", "--dir", release, "--force", "--tarball", bed.scratch.url.path + "/kv.tgz"])
        #expect(created.contains("Added package 'kv-server/"), "\(created)")
        try await bed.succeed(["-n", "upload-release", bed.scratch.url.path + "/kv.tgz"])
        return try String(contentsOfFile: examples.path + "/manifests/kv.yml", encoding: .utf8)
    }

    private func runExample(_ bed: Bed) async throws {
        try await Self.prepare(bed)
        let manifest = try await Self.uploadExampleRelease(bed)

        // Without the password the kv-server template cannot render: the deploy stops there.
        let broken = try await bed.deployNamed("kv", manifest.replacingOccurrences(of: "      password: ((kv_password))\n", with: ""))
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("Unable to render jobs"), "\(broken.stdout)")
        #expect(broken.stdout.contains("Can't find property 'password'"), "\(broken.stdout)")
        #expect(try await bed.vmCIDs(deployment: "kv").isEmpty)

        let deployed = try await bed.deployNamed("kv", manifest)
        #expect(deployed.status == 0, "\(deployed.stdout)")
        let rows = try await bed.instances(deployment: "kv")
        #expect(rows.count == 4, "\(rows)")
        #expect(rows.allSatisfy { $0["process_state"] == "running" }, "\(rows)")
        let servers = rows.filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }.compactMap { $0["ips"]?.stringValue }
        #expect(servers.count == 3)
        let cids = try await bed.vmCIDs(deployment: "kv")
        let serverVM = try #require(cids.first { $0.key.hasPrefix("kv-server/") }?.value)
        let config = try await bed.inVM(serverVM, "cat /var/vcap/jobs/kv-server/config/config.json")
        let password = try #require(try JSONCoding.decoder.decode(JSONValue.self, from: Data(config.utf8))["password"]?.stringValue)
        #expect(password.count == 20)
        #expect(!deployed.stdout.contains(password), "the password never shows in the task output")
        for (position, ip) in servers.enumerated() {
            let put = try await bed.http("PUT", "http://\(ip):8080/kv/greeting", body: "hello \(position)", password: password)
            #expect(put == "204", "PUT on \(ip): \(put)")
            let get = try await bed.http("GET", "http://\(ip):8080/kv/greeting", password: password)
            #expect(get == "200 hello \(position)", "GET on \(ip): \(get)")
            let denied = try await bed.http("GET", "http://\(ip):8080/kv/greeting", password: "wrong")
            #expect(denied.hasPrefix("401"), "wrong password on \(ip): \(denied)")
        }
        try await bed.succeed(["-n", "-d", "kv", "delete-deployment"])
        #expect(try await bed.containers().isEmpty)
    }

    @Test("deploy compiles, renders, starts; no-op redeploy; bad manifest touches nothing; disk survives recreate; property roll; scale frees IPs; delete leaves nothing")
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
        for cid in try await bed.vmCIDs().values {
            #expect(try await bed.inVM(cid, "cat /var/vcap/jobs/greeter/config/greeter.conf").contains("who=everyone"))
        }

        // Scaling 2 -> 3 -> 1 -> 2: addresses of deleted instances are freed and taken again.
        // Scaling down keeps the deleted instances' data on orphaned disks.
        #expect(try await bed.deploy(bed.manifest(instances: 3, who: "everyone")).status == 0)
        let three = try await bed.instances()
        #expect(three.count == 3)
        for (instance, cid) in try await bed.vmCIDs() { _ = try await bed.inVM(cid, "echo \(instance) > /var/vcap/store/owner") }
        #expect(try await bed.deploy(bed.manifest(instances: 1, who: "everyone")).status == 0)
        let one = try await bed.instances()
        #expect(one.count == 1)
        let orphanedDisks = try await Self.orphanedDisks(bed)
        let scaledAway = Set(three.compactMap { $0["instance"]?.stringValue }).subtracting(one.compactMap { $0["instance"]?.stringValue })
        #expect(Set(orphanedDisks.compactMap { $0["instance"]?.stringValue }) == scaledAway, "\(orphanedDisks)")
        let freed = Set(three.compactMap { $0["ips"]?.stringValue }).subtracting(one.compactMap { $0["ips"]?.stringValue })
        #expect(freed.count == 2)
        #expect(try await bed.deploy(bed.manifest(instances: 2, who: "everyone")).status == 0)
        let two = try await bed.instances()
        #expect(two.count == 2)
        #expect(two.contains { freed.contains($0["ips"]?.stringValue ?? "") }, "a freed address is handed out again: \(two)")

        // A runtime config's addon puts its job on the instance groups it includes.
        try bed.scratch.write("runtime.yml", """
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
            #expect(try await bed.inVM(cid, "test -x /var/vcap/jobs/checker/bin/run && echo installed") == "installed\n")
        }

        // The addon's job is an errand colocated on the greeters: run it everywhere it is.
        let errand = try await bed.succeed(["-d", "greet", "run-errand", "checker", "--json"])
        let runs = try JSONCoding.decoder.decode(JSONValue.self, from: Data(errand.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        #expect(runs.count == 2, "\(errand)")
        #expect(runs.allSatisfy { $0["exit_code"] == "0" && ($0["stdout"]?.stringValue ?? "").contains("greets everyone") }, "\(runs)")
        // --instance: only there.
        let only = try #require(two.first?["instance"]?.stringValue)
        let single = try await bed.succeed(["-d", "greet", "run-errand", "checker", "--instance", only, "--json"])
        let oneRun = try JSONCoding.decoder.decode(JSONValue.self, from: Data(single.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        #expect(oneRun.count == 1 && oneRun.first?["instance"]?.stringValue == only, "\(oneRun)")
        // An errand instance group: a VM made for the run, the errand's output, the VM gone again.
        let vmsBeforeErrand = try await bed.vmCIDs()
        let smokeText = try await bed.bosun(["-d", "greet", "run-errand", "smoke"])
        #expect(smokeText.status == 0, "\(smokeText.stdout)\(smokeText.stderr)")
        let smoke = try await bed.succeed(["-d", "greet", "run-errand", "smoke", "--json"])
        let smokeRuns = try JSONCoding.decoder.decode(JSONValue.self, from: Data(smoke.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        #expect(smokeRuns.count == 1 && smokeRuns.first?["exit_code"] == "0", "\(smoke)")
        #expect(smokeRuns.first?["stdout"]?.stringValue?.contains("greets everyone") == true, "\(smokeRuns)")
        #expect(smokeRuns.first?["instance"]?.stringValue?.hasPrefix("smoke/") == true)
        #expect(try await bed.vmCIDs() == vmsBeforeErrand)
        #expect(try await bed.instances().count == 2)
        let unknown = try await bed.bosun(["-d", "greet", "run-errand", "nope"])
        #expect(unknown.status == 1)
        #expect((unknown.stdout + unknown.stderr).contains("Errand 'nope' doesn't exist"), "\(unknown.stdout)")

        // stop / start one instance, stop --hard (VMs gone, disks and addresses kept), start, recreate one.
        let target = "greeter/" + (two.first?["instance"]?.stringValue?.split(separator: "/").last.map(String.init) ?? "")
        try await bed.succeed(["-n", "-d", "greet", "stop", target])
        #expect(try await bed.instances().first { $0["instance"]?.stringValue == target }?["process_state"] == "stopped")
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
        try await bed.succeed(["-n", "-d", "greet", "attach-disk", target, adopted["disk_cid"]?.stringValue ?? ""])
        try await bed.succeed(["-n", "-d", "greet", "start"])
        let targetVM = try #require(try await bed.vmCIDs()[target])
        #expect(try await bed.inVM(targetVM, "cat /var/vcap/store/owner") == "\(adopted["instance"]?.stringValue ?? "")\n")
        let orphansNow = try await Self.orphanedDisks(bed)
        #expect(orphansNow.contains { $0["instance"]?.stringValue == target }, "\(orphansNow)")
        #expect(!orphansNow.contains { $0["disk_cid"] == adopted["disk_cid"] })
        let leftover = try #require(orphansNow.first { $0["instance"]?.stringValue != target })
        try await bed.succeed(["-n", "delete-disk", leftover["disk_cid"]?.stringValue ?? ""])
        #expect(try await Self.orphanedDisks(bed).count == orphansNow.count - 1)
        let woken = try await bed.instances()
        #expect(woken.allSatisfy { $0["process_state"] == "running" }, "\(woken)")
        #expect(Set(woken.compactMap { $0["ips"]?.stringValue }) == Set(two.compactMap { $0["ips"]?.stringValue }), "addresses kept")
        // restart follows the update policy: canary first (in the first AZ), then the other AZ.
        let restarted = try await bed.succeed(["-n", "-d", "greet", "restart"])
        #expect(restarted.components(separatedBy: "Restarting instance greeter:").count - 1 == 2, "\(restarted)")
        #expect(restarted.components(separatedBy: "(canary)").count - 1 == 1, "\(restarted)")
        let beforeRecreate = try await bed.vmCIDs()
        try await bed.succeed(["-n", "-d", "greet", "recreate", target])
        let afterRecreate = try await bed.vmCIDs()
        #expect(afterRecreate[target] != beforeRecreate[target])
        #expect(afterRecreate.filter { $0.key != target } == beforeRecreate.filter { $0.key != target })

        // What the deployment uses cannot be deleted from under it (unless forced).
        let releaseInUse = try await bed.bosun(["-n", "delete-release", "dummy"])
        #expect(releaseInUse.status == 1 && releaseInUse.stdout.contains("Release 'dummy' is still in use by: greet"), "\(releaseInUse.stdout)")
        let stemcells = try await bed.succeed(["stemcells", "--json"])
        let stemcellRow = try #require(
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(stemcells.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue?.first)
        let slug = "\(stemcellRow["name"]?.stringValue ?? "")/\((stemcellRow["version"]?.stringValue ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "*")))"
        let stemcellInUse = try await bed.bosun(["-n", "delete-stemcell", slug])
        #expect(stemcellInUse.status == 1 && stemcellInUse.stdout.contains("Stemcell '\(slug)' is still in use by: greet"), "\(stemcellInUse.stdout)")
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
        #expect((try? FileManager.default.contentsOfDirectory(atPath: bed.scratch.url.path + "/cpi/disks"))?.filter { $0.hasSuffix(".img") } == [])
    }

    /// `disks --orphaned --json` rows.
    static func orphanedDisks(_ bed: Bed) async throws -> [JSONValue] {
        let output = try await bed.succeed(["disks", "--orphaned", "--json"])
        return try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
    }
}
