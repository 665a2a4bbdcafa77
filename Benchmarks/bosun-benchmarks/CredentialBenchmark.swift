import Foundation

/// What keeping credentials in memory costs (root; run from the repository root): the example
/// release deployed with templates through the blobstore, then on a second director with
/// `use_tmpfs_config` and templates over NATS; for each, the deploy's wall time and the
/// director's own share, a `regenerate-variable` roll-out, and (tmpfs) how long a VM rebooted
/// through the CPI takes to run its jobs again without being recreated.
///
///   .build/release/bosun-benchmarks credentials [instances]
func runCredentialBenchmark() async throws {
    let instances = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 10 : 10
    for inMemory in [false, true] {
        let bench = try await BenchDirector(directorConfig: inMemory ? "enable_nats_delivered_templates: true" : "")
        defer { bench.tearDown() }
        try bench.prepare()
        var manifest = bench.manifest(instances: instances, maxInFlight: 5)
        if inMemory { manifest += "features: {use_tmpfs_config: true}\n" }
        let (task, wall) = try bench.deploy(manifest)
        let timing = try bench.taskLines(task, "--result").first as? [String: Double] ?? [:]
        let own = timing["director_own_seconds"] ?? 0, taskWall = timing["wall_seconds"] ?? 0
        print(String(
            format: "%@: deploy %d instances: CLI wall %.1f s, task wall %.1f s, director's own %.2f s (%.1f%%)",
            inMemory ? "NATS templates + tmpfs" : "blobstore templates, no tmpfs", instances, wall, taskWall, own,
            taskWall > 0 ? 100 * own / taskWall : 0))

        let start = DispatchTime.now().uptimeNanoseconds
        try bench.bosun(["-n", "-d", "bench", "regenerate-variable", "kv_password"])
        print(String(format: "  regenerate-variable kv_password, rolled out to %d instances: %.1f s", instances, seconds(since: start)))

        guard inMemory else { continue }
        let vms = try bench.bosun(["-d", "bench", "vms", "--json"])
        guard let vm = (try JSONSerialization.jsonObject(with: Data(vms.utf8)) as? [String: Any]).flatMap({ document in
            (((document["Tables"] as? [[String: Any]])?.first?["Rows"] as? [[String: Any]])?.first?["vm_cid"] as? String)
        }) else { throw NSError(domain: "no VM", code: 1) }
        let request = #"{"method":"reboot_vm","arguments":["\#(vm)"],"context":{"director_uuid":"bench"}}"#
        try request.write(toFile: bench.work + "/reboot.json", atomically: true, encoding: .utf8)
        let rebooted = DispatchTime.now().uptimeNanoseconds
        try shell("/bin/sh", ["-c", "\(bench.binaries)/bosun-local-cpi -configPath \(bench.work)/local-cpi.yml < \(bench.work)/reboot.json"])
        var running = false
        for _ in 0..<600 where !running {
            let rows = try bench.bosun(["-d", "bench", "instances", "--json"])
            if let document = try JSONSerialization.jsonObject(with: Data(rows.utf8)) as? [String: Any],
                let table = ((document["Tables"] as? [[String: Any]])?.first?["Rows"] as? [[String: Any]])
            {
                running = table.allSatisfy { ($0["process_state"] as? String) == "running" }
            }
            if !running { try await Task.sleep(for: .milliseconds(100)) }
        }
        print(String(format: "  VM rebooted through the CPI: jobs running again after %.1f s, same VM (templates restored)", seconds(since: rebooted)))
        // The restore task finishes its post-start before the deployment can go.
        for _ in 0..<100 where !(try bench.bosun(["events", "--json"])).contains("restore templates") {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
