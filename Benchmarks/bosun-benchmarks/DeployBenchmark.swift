import Foundation

/// A 20-instance deploy of the example release on this machine (root; run from the repository
/// root): a fresh director with its own NATS, the local CPI on a bridge of its own, the kv
/// release built with `bosun create-release`. Prints the deploy's wall time, the CPI's summed
/// time, the agents' and the director's own share as the director measured them (wall time
/// with no CPI call, agent call, render or watch in flight), then deletes everything.
///
///   .build/release/bosun-benchmarks deploy [instances] [max_in_flight]
func runDeployBenchmark() async throws {
    let instances = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 20 : 20
    let maxInFlight = CommandLine.arguments.count > 3 ? Int(CommandLine.arguments[3]) ?? 10 : 10
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let work = "/tmp/bosun-bench-deploy-\(getpid())"
    let token = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
    let subnet = "10.\(Int.random(in: 200...250)).\(Int.random(in: 1...254))"
    let bridge = "bb" + String(token.prefix(8))
    let runtimeRoot = "/run/bosun-bench-\(token)"
    try FileManager.default.createDirectory(atPath: work + "/state", withIntermediateDirectories: true)
    let port = 27_000 + Int(getpid() % 1000)
    try """
        work_dir: \(work)/cpi
        bridge: \(bridge)
        agent_path: \(binaries)/bosun-agent
        runtime_root: \(runtimeRoot)

        """.write(toFile: work + "/local-cpi.yml", atomically: true, encoding: .utf8)
    try """
        port: \(port)
        blobstore_port: \(port + 1)
        agent_address: \(subnet).1
        nats: {port: 0}
        cpi: {path: \(binaries)/bosun-local-cpi, config: \(work)/local-cpi.yml}

        """.write(toFile: work + "/state/config.yml", atomically: true, encoding: .utf8)
    let director = Process()
    director.executableURL = URL(fileURLWithPath: binaries + "/bosun-director")
    director.arguments = ["--state-dir", work + "/state"]
    director.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    director.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try director.run()
    defer {
        // Whatever happened, the VMs, disks and addresses go before the director does.
        _ = try? shell(binaries + "/bosun", ["-n", "-d", "bench", "delete-deployment", "--force"])
        director.terminate()
        director.waitUntilExit()
        _ = try? shell("/usr/sbin/ip", ["link", "del", bridge])
        try? FileManager.default.removeItem(atPath: runtimeRoot)
        if ProcessInfo.processInfo.environment["BOSUN_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: work) }
    }
    while !FileManager.default.fileExists(atPath: work + "/state/admin-password") { try await Task.sleep(for: .milliseconds(100)) }
    try await Task.sleep(for: .seconds(1))
    let password = try String(contentsOfFile: work + "/state/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    setenv("BOSH_ENVIRONMENT", "127.0.0.1:\(port)", 1)
    setenv("BOSH_CA_CERT", work + "/state/certs/director-ca.crt", 1)
    setenv("BOSH_CLIENT", "admin", 1)
    setenv("BOSH_CLIENT_SECRET", password, 1)
    setenv("BOSUN_CONFIG", work + "/cli-config", 1)
    func bosun(_ arguments: [String]) throws -> String { try shell(binaries + "/bosun", arguments) }

    try """
        azs: [{name: z1}, {name: z2}]
        vm_types: [{name: small, cloud_properties: {ram: 256}}]
        disk_types: [{name: default, disk_size: 32}]
        networks:
        - name: default
          type: manual
          subnets: [{range: \(subnet).0/24, gateway: \(subnet).1, reserved: [\(subnet).2 - \(subnet).9], azs: [z1, z2]}]
        compilation: {workers: 2, az: z1, vm_type: small, network: default, reuse_compilation_vms: true}

        """.write(toFile: work + "/cloud.yml", atomically: true, encoding: .utf8)
    _ = try bosun(["-n", "update-cloud-config", work + "/cloud.yml"])
    _ = try shell(binaries + "/bosun-local-cpi", ["build-stemcell", work, "1"])
    _ = try bosun(["-n", "upload-stemcell", work + "/bosun-local-stemcell-1.tgz"])
    let releaseCopy = work + "/kv-release"
    try FileManager.default.copyItem(atPath: FileManager.default.currentDirectoryPath + "/examples/kv-release", toPath: releaseCopy)
    _ = try bosun(["create-release", "--dir", releaseCopy, "--force", "--tarball", work + "/kv.tgz"])
    _ = try bosun(["-n", "upload-release", work + "/kv.tgz"])
    try """
        name: bench
        releases: [{name: kv, version: latest}]
        stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
        update: {canaries: 1, max_in_flight: \(maxInFlight), canary_watch_time: 200-30000, update_watch_time: 200-30000}
        instance_groups:
        - name: kv-server
          instances: \(instances)
          azs: [z1, z2]
          vm_type: small
          stemcell: default
          persistent_disk_type: default
          networks: [{name: default}]
          jobs: [{name: kv-server, release: kv, properties: {password: ((kv_password))}}]
        variables: [{name: kv_password, type: password}]

        """.write(toFile: work + "/bench.yml", atomically: true, encoding: .utf8)

    let start = DispatchTime.now().uptimeNanoseconds
    let output = try bosun(["-n", "-d", "bench", "deploy", work + "/bench.yml"])
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard let taskLine = output.split(separator: "\n").last(where: { $0.hasPrefix("Task ") && $0.hasSuffix(" done") }),
        let taskID = taskLine.split(separator: " ").dropFirst().first
    else { throw NSError(domain: "deploy failed", code: 1, userInfo: [NSLocalizedDescriptionKey: output]) }
    let result = try bosun(["task", String(taskID), "--result"])
    guard let json = result.split(separator: "\n").first(where: { $0.hasPrefix("{") }),
        let timing = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Double]
    else { throw NSError(domain: "no timing", code: 1, userInfo: [NSLocalizedDescriptionKey: result]) }
    let own = timing["director_own_seconds"] ?? 0
    let taskWall = timing["wall_seconds"] ?? 0
    print(String(format: "deploy %d instances, max_in_flight %d: CLI wall %.1f s, task wall %.1f s", instances, maxInFlight, wall, taskWall))
    print(String(
        format: "  summed over parallel calls: CPI %.1f s, agent %.1f s (VM boot, compile, apply, start), watch %.1f s, render %.2f s",
        timing["cpi_seconds"] ?? 0, timing["agent_seconds"] ?? 0, timing["watch_seconds"] ?? 0, timing["render_seconds"] ?? 0))
    print(String(
        format: "  director's own time (nothing external in flight): %.2f s = %.1f%% of the task's wall time",
        own, taskWall > 0 ? 100 * own / taskWall : 0))
}

/// Runs a program to completion; throws with its output when it fails.
@discardableResult
func shell(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw NSError(domain: path, code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: text])
    }
    return text
}
