import Foundation
import Synchronization

/// Downtime of a VM replacement as clients see it (root; from the repository root): deploys 5
/// kv-servers, then changes their VM type once with `delete-create` and once with
/// `create-swap-delete` while a probe asks every instance's `/health` every 20 ms. Prints per
/// instance and in total the downtime the probe saw, the downtime the director recorded, and the
/// update's wall time.
///
///   .build/release/bosun-benchmarks swap [instances]
func runSwapBenchmark() async throws {
    let instances = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 5 : 5
    let bench = try await BenchDirector()
    defer { bench.tearDown() }
    try bench.prepare()
    try bench.deploy(bench.manifest(instances: instances, maxInFlight: 1))
    let addresses = try bench.instanceAddresses()
    var summaries: [String] = []
    for (strategy, vmType) in [("delete-create", "medium"), ("create-swap-delete", "small")] {
        let probe = HealthProbe(addresses: Array(addresses.values))
        let probing = Thread { probe.run() }
        probing.start()
        try await Task.sleep(for: .milliseconds(500))
        let (task, wall) = try bench.deploy(bench.manifest(instances: instances, maxInFlight: 1, vmType: vmType, strategy: strategy))
        try await Task.sleep(for: .milliseconds(500))
        probe.stop()
        let recorded = try directorDowntimes(bench.taskLines(task, "--event"))
        print("\(strategy): \(instances) instances, VM type changed, update wall time \(String(format: "%.1f", wall)) s")
        print("  instance                                     IP               probe     director  difference")
        var probeTotal = 0.0
        var directorTotal = 0.0
        var worstDifference = 0.0
        for (instance, ip) in addresses.sorted(by: { $0.key < $1.key }) {
            let seen = probe.downtime(of: ip)
            let director = recorded[instance] ?? 0
            probeTotal += seen
            directorTotal += director
            worstDifference = max(worstDifference, abs(seen - director))
            print(String(format: "  %-44@ %-15@ %6.0f ms  %6.0f ms  %6.0f ms", instance as NSString, ip as NSString, seen * 1000, director * 1000, (seen - director) * 1000))
        }
        let summary = String(
            format: "%@: downtime seen by the probe %.2f s in total (%.0f ms per instance), recorded by the director %.2f s; largest difference %.0f ms; wall %.1f s",
            strategy, probeTotal, 1000 * probeTotal / Double(instances), directorTotal, worstDifference * 1000, wall)
        print("  " + summary)
        summaries.append(summary)
    }
    print("")
    for summary in summaries { print(summary) }
}

/// Instance name → downtime in seconds, from the `Updating instance` events' `data.downtime_ms`.
private func directorDowntimes(_ events: [[String: Any]]) -> [String: Double] {
    var result: [String: Double] = [:]
    for event in events where event["stage"] as? String == "Updating instance" && event["state"] as? String == "finished" {
        guard let task = event["task"] as? String, let data = event["data"] as? [String: Any], let milliseconds = data["downtime_ms"] as? Int
        else { continue }
        // "kv-server/<uuid> (0) (canary)" → "kv-server/<uuid>"
        result[String(task.split(separator: " ").first ?? "")] = Double(milliseconds) / 1000
    }
    return result
}

/// Asks `GET /health` of every address every 20 ms (one thread each, 150 ms timeout) and keeps
/// each address's outages: from the first failed probe to the next one that succeeds.
final class HealthProbe: Sendable {
    let addresses: [String]
    private let state = Mutex<(running: Bool, outages: [String: Double])>((true, [:]))

    init(addresses: [String]) { self.addresses = addresses }

    func stop() { state.withLock { $0.running = false } }

    func downtime(of address: String) -> Double { state.withLock { $0.outages[address] ?? 0 } }

    func run() {
        let group = DispatchGroup()
        for address in addresses {
            group.enter()
            Thread {
                self.watch(address)
                group.leave()
            }.start()
        }
        group.wait()
    }

    private func watch(_ address: String) {
        var failingSince: UInt64?
        while state.withLock({ $0.running }) {
            let started = DispatchTime.now().uptimeNanoseconds
            let healthy = Self.healthy(address, port: 8080, timeoutMilliseconds: 150)
            if !healthy, failingSince == nil { failingSince = started }
            if healthy, let since = failingSince {
                let outage = Double(started - since) / 1e9
                state.withLock { $0.outages[address, default: 0] += outage }
                failingSince = nil
            }
            let elapsed = DispatchTime.now().uptimeNanoseconds - started
            if elapsed < 20_000_000 { usleep(UInt32((20_000_000 - elapsed) / 1000)) }
        }
    }

    /// One `GET /health` over a fresh connection.
    static func healthy(_ address: String, port: UInt16, timeoutMilliseconds: Int32) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        target.sin_addr.s_addr = inet_addr(address)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 && errno != EINPROGRESS { return false }
        var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        guard poll(&ready, 1, timeoutMilliseconds) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else { return false }
        let request = "GET /health HTTP/1.0\r\nHost: \(address)\r\n\r\n"
        guard request.withCString({ send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) > 0 else { return false }
        var response = [UInt8](repeating: 0, count: 256)
        var received = 0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
        while received < 12 && DispatchTime.now().uptimeNanoseconds < deadline {
            var readable = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&readable, 1, timeoutMilliseconds) == 1 else { return false }
            let count = response.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + received, 256 - received, 0) }
            guard count > 0 else { break }
            received += count
        }
        return String(decoding: response.prefix(received), as: UTF8.self).hasPrefix("HTTP/1.0 200") ||
            String(decoding: response.prefix(received), as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }
}
