import Foundation

/// Time from VM death to the service answering again (root; run from the repository root): ten
/// kv-servers over two AZs, agents heartbeating every second and timing out after 5 s, meltdown
/// out of the way. One VM's container is killed, then all five of one AZ at once; a probe asks
/// each killed instance's `/health` every 20 ms and the time until every one answers again (on
/// its own address, from its new VM) is printed.
///
///   .build/release/bosun-benchmarks resurrection
func runResurrectionBenchmark() async throws {
    let timeout = 5
    let bench = try await BenchDirector(
        directorConfig: "hm: {agent_timeout: \(timeout), analysis_interval: 1, minimum_down_jobs: 100}", cpiConfig: "agent_heartbeat_seconds: 1")
    defer { bench.tearDown() }
    try bench.prepare()
    try bench.deploy(bench.manifest(instances: 10, maxInFlight: 5))
    let output = try bench.bosun(["-d", "bench", "vms", "--json"])
    let document = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    let rows = ((document?["Tables"] as? [[String: Any]])?.first?["Rows"] as? [[String: Any]]) ?? []
    let z1 = rows.filter { ($0["az"] as? String) == "z1" }.compactMap { row -> (cid: String, ip: String)? in
        guard let cid = row["vm_cid"] as? String, let ip = row["ips"] as? String else { return nil }
        return (cid, ip)
    }
    guard z1.count >= 5 else { throw NSError(domain: "expected 5 instances in z1, found \(z1.count)", code: 1) }

    let one = try await healingTime(bench, z1.prefix(1).map { $0 })
    // The scan-and-fix task finishes its watch and post-start after the service answers.
    while try bench.bosun(["tasks", "--json"]).contains("scan and fix") { try await Task.sleep(for: .milliseconds(100)) }
    // The first victim's new VM has a new CID: read the AZ again.
    let again = try JSONSerialization.jsonObject(with: Data(try bench.bosun(["-d", "bench", "vms", "--json"]).utf8)) as? [String: Any]
    let fresh = (((again?["Tables"] as? [[String: Any]])?.first?["Rows"] as? [[String: Any]]) ?? []).filter { ($0["az"] as? String) == "z1" }
        .compactMap { row -> (cid: String, ip: String)? in
            guard let cid = row["vm_cid"] as? String, let ip = row["ips"] as? String else { return nil }
            return (cid, ip)
        }
    let five = try await healingTime(bench, Array(fresh.prefix(5)))
    print(String(format: "1 dead instance: service answering again after %.1f s (agent_timeout %d s included)", one, timeout))
    print(String(format: "5 dead instances (a whole AZ): all answering again after %.1f s = %.2f× one", five, one > 0 ? five / one : 0))
}

/// Kills the VMs' containers and waits until each one's `/health` answers again.
private func healingTime(_ bench: BenchDirector, _ victims: [(cid: String, ip: String)]) async throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    for victim in victims {
        try shell("/usr/sbin/runc", ["--root", bench.runtimeRoot, "kill", victim.cid, "KILL"])
    }
    var waiting = Set(victims.map(\.ip))
    // Down first (the kill takes a moment), then up again.
    var seenDown = Set<String>()
    let deadline = start + 300_000_000_000
    while !waiting.isEmpty && DispatchTime.now().uptimeNanoseconds < deadline {
        for ip in waiting {
            let healthy = HealthProbe.healthy(ip, port: 8080, timeoutMilliseconds: 150)
            if !healthy { seenDown.insert(ip) } else if seenDown.contains(ip) { waiting.remove(ip) }
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    guard waiting.isEmpty else { throw NSError(domain: "not healed: \(waiting.sorted())", code: 1) }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
