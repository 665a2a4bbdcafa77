import BosunCore
import Foundation
import Testing
import TestSupport

extension DeployTests {
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
}
