import Foundation

/// Idle memory of `bosun-agent`: started against a nats-server on loopback with a private root,
/// left alone for a few heartbeats, then its resident set size is read from /proc.
func runAgentBenchmark() async throws {
    let (server, port) = try await startNATSServer()
    defer {
        server.terminate()
        server.waitUntilExit()
    }
    let root = "/tmp/bosun-bench-agent-\(getpid())"
    try FileManager.default.createDirectory(atPath: root + "/bosh", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    try """
        {"agent_id":"bench","vm":{"name":"bench"},"mbus":"nats://127.0.0.1:\(port)","networks":{},"disks":{"persistent":{}},"ntp":[],"env":{}}
        """.write(toFile: root + "/bosh/settings.json", atomically: true, encoding: .utf8)
    let binary = ProcessInfo.processInfo.environment["BOSUN_AGENT_BINARY"]
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bosun-agent").path
    print("agent binary: \(binary)")
    let agent = Process()
    agent.executableURL = URL(fileURLWithPath: binary)
    agent.arguments = ["--root", root, "--no-mounts", "--heartbeat-seconds", "1"]
    agent.standardOutput = FileHandle.nullDevice
    agent.standardError = FileHandle.nullDevice
    try agent.run()
    defer {
        agent.terminate()
        agent.waitUntilExit()
    }
    try await Task.sleep(for: .seconds(5))
    let status = ProcessStatus(pid: agent.processIdentifier)
    print("agent idle after 5 s (connected, heartbeats every 1 s): VmRSS \(status["VmRSS"]), RssAnon \(status["RssAnon"]), RssFile \(status["RssFile"]), threads \(status["Threads"])")
    // The agent trims its resident set 3 s after start and every 60 s; what it runs in between
    // faults back in. Sampled every 5 s over two trim periods: the range is what a VM pays.
    var samples: [Int] = []
    for _ in 0..<24 {
        try await Task.sleep(for: .seconds(5))
        if let kb = Int(ProcessStatus(pid: agent.processIdentifier)["VmRSS"].split(separator: " ").first ?? "") { samples.append(kb) }
    }
    if let low = samples.min(), let high = samples.max() {
        let mean = Double(samples.reduce(0, +)) / Double(samples.count) / 1024
        print(String(format: "agent idle RSS sampled every 5 s from 10 s to 125 s: min %.1f MB, mean %.1f MB, max %.1f MB", Double(low) / 1024, mean, Double(high) / 1024))
    }
    try await runAgentStartBenchmark(server: port, root: root)
}
