import Foundation
import Logging
import NATS
import NIOCore
import ServiceLifecycle

/// NATS throughput and latency against a nats-server started here on 127.0.0.1: publish rate of
/// 128-byte messages (until the server has confirmed them all), and request/reply round trips.
func runNATSBenchmark() async throws {
    let (server, port) = try await startNATSServer()
    defer {
        server.terminate()
        server.waitUntilExit()
    }

    var logger = Logger(label: "nats-bench")
    logger.logLevel = .error
    let configuration = NATSClientConfiguration(servers: [URL(string: "nats://127.0.0.1:\(port)")!])
    let publisher = try NATSClient(configuration: configuration, logger: logger)
    let responder = try NATSClient(configuration: configuration, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [publisher, responder], logger: logger))

    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await publisher.waitUntilConnected()
        try await responder.waitUntilConnected()

        // Publish throughput.
        let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: 128)
        let count = 1_000_000
        let start = ContinuousClock.now
        for _ in 0..<count {
            try publisher.publish(payload, to: "bench.publish")
        }
        try await publisher.flush()
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        print(String(format: "nats publish: %d msgs of 128 B in %.2f s = %.0f msgs/s", count, seconds, Double(count) / seconds))

        // Request/reply round trips.
        let service = try await responder.subscribe(to: "bench.echo")
        tasks.addTask {
            for try await message in service {
                try responder.publish(message.payload, to: message.replyTo!)
            }
        }
        var latencies: [Double] = []
        let small = ByteBuffer(string: "ping")
        for i in 0..<11_000 {
            let begin = ContinuousClock.now
            _ = try await publisher.request(small, to: "bench.echo", timeout: .seconds(2))
            if i >= 1000 { latencies.append((ContinuousClock.now - begin) / .microseconds(1)) }  // after warm-up
        }
        latencies.sort()
        func at(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(String(format: "nats request/reply: %d round trips, p50 %.0f µs, p99 %.0f µs, max %.0f µs",
            latencies.count, at(0.5), at(0.99), latencies.last!))
        responder.unsubscribe(service)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// A nats-server on 127.0.0.1 and a random port, given a moment to start listening.
func startNATSServer() async throws -> (Process, Int) {
    let port = Int.random(in: 20000..<40000)
    let server = Process()
    server.executableURL = URL(fileURLWithPath: "/usr/sbin/nats-server")
    server.arguments = ["-a", "127.0.0.1", "-p", String(port)]
    server.standardOutput = FileHandle.nullDevice
    server.standardError = FileHandle.nullDevice
    try server.run()
    try await Task.sleep(for: .milliseconds(300))
    return (server, port)
}
