import BosunCore
import CPI
import Foundation
import LocalCPI

/// create_vm → main process running, and delete_vm, through the `bosun-local-cpi` executable (one
/// process per call, as the director runs it): one VM at a time, then 20 in parallel. Needs root.
func runLocalCPIBenchmark() async throws {
    let token = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
    let directory = "/tmp/bosun-bench-lcpi-\(token)"
    let bridge = "bb" + String(token.prefix(8))
    let subnet = "10.\(Int.random(in: 200...250)).\(Int.random(in: 1...254))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let agent = directory + "/agent.sh"
    try "#!/bin/sh\ntouch /var/vcap/ready\nexec sleep 3600\n".write(toFile: agent, atomically: true, encoding: .utf8)
    chmod(agent, 0o755)
    try "work_dir: \(directory)/work\nbridge: \(bridge)\nagent_path: \(agent)\nmax_vms: 50\n".write(
        toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bosun-local-cpi").path
    let cpi = ExternalCPI(executable: executable, arguments: ["-configPath", directory + "/config.yml"], directorUUID: "bench")
    defer {
        _ = try? SpawnedProcess.run("/usr/sbin/ip", ["link", "del", bridge])
        try? FileManager.default.removeItem(atPath: directory)
    }

    let tarball = try await LocalCPI.buildStemcell(into: directory)
    _ = try SpawnedProcess.run("/bin/tar", ["-xzf", tarball, "-C", directory])
    let stemcell = try await cpi.createStemcell(imagePath: directory + "/image", cloudProperties: [:])

    func network(_ host: Int) -> JSONValue {
        ["default": ["type": "manual", "ip": .string("\(subnet).\(host)"), "netmask": "255.255.255.0", "gateway": .string("\(subnet).1")]]
    }
    /// Milliseconds from create_vm until the VM's main process marked itself ready.
    func create(_ host: Int) async throws -> (String, Double) {
        let start = ContinuousClock.now
        let (cid, _) = try await cpi.createVM(
            agentID: "a\(host)", stemcellCID: stemcell, cloudProperties: ["ram": 256], networks: network(host), diskCIDs: [], env: [:])
        while !FileManager.default.fileExists(atPath: "\(directory)/work/vms/\(cid)/vcap/ready") {
            try await Task.sleep(for: .milliseconds(1))
        }
        return (cid, (ContinuousClock.now - start) / .milliseconds(1))
    }
    func delete(_ cid: String) async throws -> Double {
        let start = ContinuousClock.now
        try await cpi.deleteVM(cid)
        return (ContinuousClock.now - start) / .milliseconds(1)
    }
    func summary(_ values: [Double]) -> String {
        let sorted = values.sorted()
        return String(format: "median %.0f ms, p90 %.0f ms", sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 9 / 10)])
    }

    _ = try await delete(try await create(2).0)  // warm up
    var creates: [Double] = []
    var deletes: [Double] = []
    for i in 0..<10 {
        let (cid, ms) = try await create(10 + i)
        creates.append(ms)
        deletes.append(try await delete(cid))
    }
    print("local-cpi one VM at a time (10 runs): create_vm→running \(summary(creates)); delete_vm \(summary(deletes))")

    let start = ContinuousClock.now
    let parallel = try await withThrowingTaskGroup(of: (String, Double).self) { group in
        for i in 0..<20 { group.addTask { try await create(100 + i) } }
        var results: [(String, Double)] = []
        for try await result in group { results.append(result) }
        return results
    }
    let all = (ContinuousClock.now - start) / .milliseconds(1)
    let deleteStart = ContinuousClock.now
    try await withThrowingTaskGroup(of: Double.self) { group in
        for (cid, _) in parallel { group.addTask { try await delete(cid) } }
        try await group.waitForAll()
    }
    let deleteAll = (ContinuousClock.now - deleteStart) / .milliseconds(1)
    print(String(format: "local-cpi 20 VMs in parallel: all running after %.0f ms (each %@); all deleted after %.0f ms",
        all, summary(parallel.map(\.1)), deleteAll))
}
