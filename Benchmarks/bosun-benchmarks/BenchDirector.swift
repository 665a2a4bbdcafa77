import Foundation

/// A fresh director on this machine for deploy benchmarks (root; run from the repository root):
/// its own state directory, NATS, the local CPI on a bridge and subnet of its own, a cloud config
/// with `small` and `medium` VM types, the local stemcell and the example kv release built with
/// `bosun create-release`. `tearDown` deletes the deployment and everything it made.
final class BenchDirector {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let token = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
    var work: String { "/tmp/bosun-bench-deploy-\(getpid())-\(token)" }
    let subnet = "10.\(Int.random(in: 200...250)).\(Int.random(in: 1...254))"
    var bridge: String { "bb" + String(token.prefix(8)) }
    var runtimeRoot: String { "/run/bosun-bench-\(token)" }
    let port = 27_000 + Int(getpid() % 1000)
    private let director = Process()

    /// - Parameters:
    ///   - directorConfig: extra lines for the director's `config.yml`.
    ///   - cpiConfig: extra lines for the local CPI's config.
    init(directorConfig: String = "", cpiConfig: String = "") async throws {
        try FileManager.default.createDirectory(atPath: work + "/state", withIntermediateDirectories: true)
        try """
            work_dir: \(work)/cpi
            bridge: \(bridge)
            agent_path: \(binaries)/bosun-agent
            runtime_root: \(runtimeRoot)
            \(cpiConfig)

            """.write(toFile: work + "/local-cpi.yml", atomically: true, encoding: .utf8)
        try """
            port: \(port)
            blobstore_port: \(port + 1)
            agent_address: \(subnet).1
            nats: {port: 0}
            cpi: {path: \(binaries)/bosun-local-cpi, config: \(work)/local-cpi.yml}
            \(directorConfig)

            """.write(toFile: work + "/state/config.yml", atomically: true, encoding: .utf8)
        director.executableURL = URL(fileURLWithPath: binaries + "/bosun-director")
        director.arguments = ["--state-dir", work + "/state"]
        // The director's log stays with the work directory (kept with BOSUN_BENCH_KEEP=1).
        _ = FileManager.default.createFile(atPath: work + "/director.log", contents: nil)
        director.standardOutput = FileHandle(forWritingAtPath: work + "/director.log")
        director.standardError = FileHandle(forWritingAtPath: work + "/director.log")
        try director.run()
        while !FileManager.default.fileExists(atPath: work + "/state/admin-password") { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))
        let password = try String(contentsOfFile: work + "/state/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        setenv("BOSH_ENVIRONMENT", "127.0.0.1:\(port)", 1)
        setenv("BOSH_CA_CERT", work + "/state/certs/director-ca.crt", 1)
        setenv("BOSH_CLIENT", "admin", 1)
        setenv("BOSH_CLIENT_SECRET", password, 1)
        setenv("BOSUN_CONFIG", work + "/cli-config", 1)
    }

    @discardableResult
    func bosun(_ arguments: [String]) throws -> String { try shell(binaries + "/bosun", arguments) }

    /// Cloud config, stemcell and the example release.
    func prepare() throws {
        try """
            azs: [{name: z1}, {name: z2}]
            vm_types: [{name: small, cloud_properties: {ram: 256}}, {name: medium, cloud_properties: {ram: 384}}]
            disk_types: [{name: default, disk_size: 32}]
            networks:
            - name: default
              type: manual
              subnets: [{range: \(subnet).0/24, gateway: \(subnet).1, reserved: [\(subnet).2 - \(subnet).9], azs: [z1, z2]}]
            compilation: {workers: 2, az: z1, vm_type: small, network: default, reuse_compilation_vms: true}

            """.write(toFile: work + "/cloud.yml", atomically: true, encoding: .utf8)
        try bosun(["-n", "update-cloud-config", work + "/cloud.yml"])
        try shell(binaries + "/bosun-local-cpi", ["build-stemcell", work, "1"])
        try bosun(["-n", "upload-stemcell", work + "/bosun-local-stemcell-1.tgz"])
        let releaseCopy = work + "/kv-release"
        try FileManager.default.copyItem(atPath: FileManager.default.currentDirectoryPath + "/examples/kv-release", toPath: releaseCopy)
        try bosun(["create-release", "--dir", releaseCopy, "--force", "--tarball", work + "/kv.tgz"])
        try bosun(["-n", "upload-release", work + "/kv.tgz"])
    }

    /// A kv-server deployment `bench`.
    func manifest(instances: Int, maxInFlight: Int, vmType: String = "small", strategy: String = "delete-create") -> String {
        """
        name: bench
        releases: [{name: kv, version: latest}]
        stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
        update: {canaries: 1, max_in_flight: \(maxInFlight), canary_watch_time: 200-30000, update_watch_time: 200-30000, vm_strategy: \(strategy)}
        instance_groups:
        - name: kv-server
          instances: \(instances)
          azs: [z1, z2]
          vm_type: \(vmType)
          stemcell: default
          persistent_disk_type: default
          networks: [{name: default}]
          jobs: [{name: kv-server, release: kv, properties: {password: ((kv_password))}}]
        variables: [{name: kv_password, type: password}]

        """
    }

    /// Deploys and returns the task id and the CLI's wall time.
    @discardableResult
    func deploy(_ manifest: String) throws -> (task: String, seconds: Double) {
        try manifest.write(toFile: work + "/bench.yml", atomically: true, encoding: .utf8)
        let start = DispatchTime.now().uptimeNanoseconds
        let output = try bosun(["-n", "-d", "bench", "deploy", work + "/bench.yml"])
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard let taskLine = output.split(separator: "\n").last(where: { $0.hasPrefix("Task ") && $0.hasSuffix(" done") }),
            let taskID = taskLine.split(separator: " ").dropFirst().first
        else { throw NSError(domain: "deploy failed", code: 1, userInfo: [NSLocalizedDescriptionKey: output]) }
        return (String(taskID), wall)
    }

    /// The task's JSON lines of one kind (`--event`, `--result`).
    func taskLines(_ task: String, _ kind: String) throws -> [[String: Any]] {
        try bosun(["task", task, kind]).split(separator: "\n").filter { $0.hasPrefix("{") }
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Instance name (`group/uuid`) → IP.
    func instanceAddresses() throws -> [String: String] {
        let output = try bosun(["-d", "bench", "instances", "--json"])
        let document = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let rows = ((document?["Tables"] as? [[String: Any]])?.first?["Rows"] as? [[String: Any]]) ?? []
        var result: [String: String] = [:]
        for row in rows { result[row["instance"] as? String ?? ""] = row["ips"] as? String ?? "" }
        return result
    }

    /// Whatever happened, the VMs (orphaned ones too), disks and addresses go before the director does.
    func tearDown() {
        // A task the director started by itself (a restore after a reboot) may hold the lock.
        for _ in 0..<30 {
            do {
                try bosun(["-n", "-d", "bench", "delete-deployment", "--force"])
                break
            } catch {
                guard "\(error)".contains("Failed to acquire lock") else { break }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        _ = try? bosun(["-n", "clean-up", "--all"])
        director.terminate()
        director.waitUntilExit()
        _ = try? shell("/usr/sbin/ip", ["link", "del", bridge])
        try? FileManager.default.removeItem(atPath: runtimeRoot)
        if ProcessInfo.processInfo.environment["BOSUN_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: work) }
    }
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
