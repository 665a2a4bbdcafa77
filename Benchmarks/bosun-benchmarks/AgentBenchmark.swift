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
    try await runAgentStartBenchmark(server: port, root: root)
}
