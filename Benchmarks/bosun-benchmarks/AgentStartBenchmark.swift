import Foundation
import Logging
import NATS
import ServiceLifecycle

/// Time from the director's `start` to `job_state: running` for one job of five bpm processes,
/// measured as the director sees it: `start` over NATS, then `get_state` polled every 10 ms.
/// A process counts as running once it survived the supervisor's start grace (1 s), so that grace
/// is the floor of this figure.
func runAgentStartBenchmark(server port: Int, root: String) async throws {
    let spec = #"{"deployment":"bench","name":"bench","job":{"name":"bench","templates":[{"name":"worker"}]}}"#
    try spec.write(toFile: root + "/bosh/spec.json", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: root + "/jobs/worker/config", withIntermediateDirectories: true)
    let processes = (1...5).map { "- name: p\($0)\n  executable: /bin/sleep\n  args: [\"1000\"]\n" }.joined()
    try ("processes:\n" + processes).write(toFile: root + "/jobs/worker/config/bpm.yml", atomically: true, encoding: .utf8)

    var logger = Logger(label: "agent-bench")
    logger.logLevel = .error
    let director = try NATSClient(
        configuration: NATSClientConfiguration(servers: [URL(string: "nats://127.0.0.1:\(port)")!]), logger: logger)
    let group = ServiceGroup(configuration: .init(services: [director], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await director.waitUntilConnected()
        let replies = try await director.subscribe(to: "bench.replies")
        var iterator = replies.makeAsyncIterator()
        func send(_ method: String, _ arguments: String = "[]") async throws -> String {
            let request = #"{"protocol":3,"method":"\#(method)","arguments":\#(arguments),"reply_to":"bench.replies"}"#
            try director.publish(request, to: "agent.bench")
            guard let reply = try await iterator.next() else { throw BenchmarkError("agent replies ended") }
            return String(decoding: reply.payload.readableBytesView, as: UTF8.self)
        }
        func waitForJobState(_ wanted: String) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let reply = try await send("get_state")
                let value = (try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["value"] as? [String: Any]
                if value?["job_state"] as? String == wanted { break }
                guard ContinuousClock.now < deadline else { throw BenchmarkError("job_state never became \(wanted): \(reply)") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        var samples: [Double] = []
        do {
            for _ in 0..<10 {
                let start = ContinuousClock.now
                _ = try await send("start")
                try await waitForJobState("running")
                samples.append((ContinuousClock.now - start) / .milliseconds(1))
                // As the director does: `stop` is an async task, followed to its end before the next `start`.
                var reply = try await send("stop")
                while let value = (try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["value"] as? [String: Any],
                    value["state"] as? String == "running", let id = value["agent_task_id"] as? String
                {
                    try await Task.sleep(for: .milliseconds(10))
                    reply = try await send("get_task", #"["\#(id)"]"#)
                }
                try await waitForJobState("stopped")
            }
        } catch {
            await group.triggerGracefulShutdown()  // or the client's service would keep the group waiting
            throw error
        }
        samples.sort()
        print(String(format: "agent start → 5 bpm processes running: median %.0f ms, p90 %.0f ms (10 runs; start grace 1000 ms)",
            samples[samples.count / 2], samples[samples.count * 9 / 10]))
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
