import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// The director's HTTP API on loopback: `bosun-director` started on a fresh state directory (SQLite),
/// its idle RSS after start-up, then `GET /info` and `GET /tasks` from 8 concurrent clients for a few
/// seconds each (keep-alive connections, TLS 1.3), printing requests per second and latency
/// percentiles.
func runDirectorBenchmark() async throws {
    let state = "/tmp/bosun-bench-director-\(getpid())"
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: state) }
    let port = 26_000 + Int(getpid() % 1000)
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bosun-director").path
    let director = Process()
    director.executableURL = URL(fileURLWithPath: binary)
    director.arguments = ["--state-dir", state, "--port", "\(port)"]
    director.standardOutput = FileHandle.nullDevice
    director.standardError = FileHandle.nullDevice
    try director.run()
    defer {
        director.terminate()
        director.waitUntilExit()
    }

    var tls = TLSConfiguration.makeClientConfiguration()
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: state + "/admin-password") && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    try await Task.sleep(for: .milliseconds(500))
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(state + "/certs/director-ca.crt"))
    let password = try String(contentsOfFile: state + "/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let authorization = "Basic " + Data("admin:\(password)".utf8).base64EncodedString()
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))

    func get(_ path: String) async throws -> Double {
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Authorization", value: authorization)
        let start = DispatchTime.now().uptimeNanoseconds
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 24)
        guard response.status == .ok else { throw NSError(domain: "director", code: Int(response.status.code)) }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
    }
    // Ready, then idle for a moment: that is the memory an operator's director sits at.
    for _ in 0..<100 { if (try? await get("/info")) != nil { break }; try await Task.sleep(for: .milliseconds(100)) }
    try await Task.sleep(for: .seconds(3))
    let status = ProcessStatus(pid: director.processIdentifier)
    print("director idle after start-up: VmRSS \(status["VmRSS"]), RssAnon \(status["RssAnon"]), threads \(status["Threads"])")

    for path in ["/info", "/tasks?verbose=2&limit=30"] {
        let seconds = 5.0
        let end = Date().addingTimeInterval(seconds)
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var samples: [Double] = []
                    while Date() < end { samples.append(try await get(path)) }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(String(
            format: "GET %@: %.0f requests/s (8 clients, %.0f s), latency p50 %.0f µs, p99 %.0f µs", path,
            Double(latencies.count) / seconds, seconds, percentile(0.5), percentile(0.99)))
    }
    try await client.shutdown()
}
