import BosunCore
import Director
import FluentKit
import Foundation
import Testing
import TestSupport

/// A job in three steps that leaves a result output; the kind of task the CLI follows.
struct ThreeStepJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        for index in 1...3 {
            try await context.events.step(stage: "Testing steps", task: "step \(index)", tags: ["web"], index: index, total: 3) {}
            try await context.checkCancelled()
        }
        try context.output.append(.result, "{\"answer\":42}\n")
        return "/deployments/web"
    }
}

/// Holds `web`'s deployment lock until cancelled.
struct LockHoldingJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        try await context.withDeploymentLock("web") {
            while true {
                try await context.checkCancelled()
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}

/// Fails with a message.
struct FailingJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        try await context.events.step(stage: "Failing", task: "the only step") { throw DirectorError(.badRequest, code: 123, "it broke") }
    }
}

@Suite("Director tasks", .serialized)
struct TaskRoutesTests {
    static let jobs: [String: any TaskJob] = ["update_deployment": ThreeStepJob(), "delete_deployment": LockHoldingJob(), "update_release": FailingJob()]

    /// Polls `GET /tasks/<id>` until the state is final.
    static func waitForEnd(_ client: DirectorHTTPClient, _ id: Int) async throws -> JSONValue {
        for _ in 0..<800 {
            let task = try #require(try await client.send(.GET, "/tasks/\(id)").json)
            if let state = task["state"]?.stringValue, !["queued", "processing", "cancelling"].contains(state) { return task }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw DirectorIdentity.Failure(description: "task \(id) did not end")
    }

    static func waitForState(_ client: DirectorHTTPClient, _ id: Int, _ wanted: String) async throws {
        for _ in 0..<800 {
            if try await client.send(.GET, "/tasks/\(id)").json?["state"]?.stringValue == wanted { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw DirectorIdentity.Failure(description: "task \(id) never became \(wanted)")
    }

    @Test("a task runs to done; its event log is JSON lines served from the Range offset; 416 when nothing is new")
    func taskAndOutputs() async throws {
        try await withDirector(jobs: Self.jobs) { director in
            let client = DirectorHTTPClient(director: director)
            let queued = try await director.tasks.enqueue(type: "update_deployment", description: "create deployment", user: "admin", deployment: "web")
            let task = try await Self.waitForEnd(client, queued.id!)
            #expect(task["state"] == "done")
            #expect(task["result"] == "/deployments/web")
            #expect(task["description"] == "create deployment")
            #expect(task["deployment"] == "web")
            #expect(task["user"] == "admin")
            if case .int(let startedAt)? = task["started_at"], case .int(let timestamp)? = task["timestamp"] {
                #expect(startedAt <= timestamp)
            } else {
                Issue.record("started_at and timestamp must be integers: \(task)")
            }

            let whole = try await client.send(.GET, "/tasks/\(queued.id!)/output?type=event")
            #expect(whole.status == .ok)
            let lines = whole.body.split(separator: "\n").map { try? JSONCoding.decoder.decode(JSONValue.self, from: Data($0.utf8)) }
            #expect(lines.count == 6 && lines.allSatisfy { $0 != nil })
            #expect(lines.first??["state"] == "started" && lines.first??["stage"] == "Testing steps" && lines.first??["tags"] == ["web"])
            #expect(lines.last??["state"] == "finished" && lines.last??["task"] == "step 3")

            let size = whole.body.utf8.count
            let tail = try await client.send(.GET, "/tasks/\(queued.id!)/output?type=event", headers: [("Range", "bytes=\(size - 10)-")])
            #expect(tail.status == .partialContent)
            #expect(tail.body == String(whole.body.suffix(10)))
            let nothingNew = try await client.send(.GET, "/tasks/\(queued.id!)/output?type=event", headers: [("Range", "bytes=\(size)-")])
            #expect(nothingNew.status == .rangeNotSatisfiable)
            #expect(nothingNew.headers["Content-Range"] == ["bytes */\(size)"])
            #expect(try await client.send(.GET, "/tasks/\(queued.id!)/output?type=result").body == "{\"answer\":42}\n")

            let missing = try await client.send(.GET, "/tasks/9999")
            #expect(missing.status == .notFound)
            #expect(missing.json == ["code": 10001, "description": "Task 9999 not found"])
        }
    }

    @Test("a failing task ends in error with an error line the CLI can print; lists filter by state and verbosity")
    func failureAndListing() async throws {
        try await withDirector(jobs: Self.jobs.merging(["internal_cleanup": ThreeStepJob()]) { a, _ in a }) { director in
            let client = DirectorHTTPClient(director: director)
            let failing = try await director.tasks.enqueue(type: "update_release", description: "create release", user: "admin")
            let task = try await Self.waitForEnd(client, failing.id!)
            #expect(task["state"] == "error")
            #expect(task["result"] == "it broke")
            let events = try await client.send(.GET, "/tasks/\(failing.id!)/output?type=event").body.split(separator: "\n")
            let last = try JSONCoding.decoder.decode(JSONValue.self, from: Data(events.last!.utf8))
            #expect(last["error"] == ["code": 123, "message": "it broke"])
            #expect(events.contains { $0.contains("\"state\":\"failed\"") && $0.contains("it broke") })

            let hidden = try await director.tasks.enqueue(type: "internal_cleanup", description: "cleanup", user: "admin")
            _ = try await Self.waitForEnd(client, hidden.id!)
            let userFacing = try await client.send(.GET, "/tasks?verbose=1").json?.arrayValue ?? []
            #expect(userFacing.map { $0["id"] } == [.int(failing.id!)])
            let all = try await client.send(.GET, "/tasks?verbose=2").json?.arrayValue ?? []
            #expect(all.map { $0["id"] } == [.int(hidden.id!), .int(failing.id!)])  // newest first
            let running = try await client.send(.GET, "/tasks?state=processing,cancelling,queued&verbose=2").json?.arrayValue
            #expect(running == [])
            let limited = try await client.send(.GET, "/tasks?limit=1&verbose=2").json?.arrayValue ?? []
            #expect(limited.count == 1)
        }
    }

    @Test("a lock is listed with its task, refuses a second holder, and goes with its task's cancellation")
    func locksAndCancellation() async throws {
        try await withDirector(jobs: Self.jobs) { director in
            let client = DirectorHTTPClient(director: director)
            let holder = try await director.tasks.enqueue(type: "delete_deployment", description: "delete deployment web", user: "admin", deployment: "web")
            try await Self.waitForState(client, holder.id!, "processing")
            var locks: [JSONValue] = []
            for _ in 0..<100 where locks.isEmpty {
                locks = try await client.send(.GET, "/locks").json?.arrayValue ?? []
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(locks.count == 1)
            #expect(locks.first?["type"] == "deployment" && locks.first?["resource"] == ["web"])
            #expect(locks.first?["task_id"] == .string(String(holder.id!)))
            #expect(Double(locks.first?["timeout"]?.stringValue ?? "") ?? 0 > Date().timeIntervalSince1970)

            let second = try await director.tasks.enqueue(type: "delete_deployment", description: "delete deployment web", user: "admin", deployment: "web")
            let refused = try await Self.waitForEnd(client, second.id!)
            #expect(refused["state"] == "error")
            #expect(refused["result"]?.stringValue?.contains("Failed to acquire lock for lock:deployment:web") == true)

            let cancel = try await client.send(.DELETE, "/task/\(holder.id!)")
            #expect(cancel.status == .noContent)
            let cancelled = try await Self.waitForEnd(client, holder.id!)
            #expect(cancelled["state"] == "cancelled")
            #expect(try await client.send(.GET, "/locks").json == [])
            let again = try await client.send(.DELETE, "/task/\(holder.id!)")
            #expect(again.status == .badRequest)
            #expect(again.json?["code"] == 10002)
        }
    }

    @Test("a director that finds tasks still running from a previous life marks them error and frees their locks")
    func recovery() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-director-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        // What a SIGKILLed director leaves: a task in processing and the lock it held.
        let interrupted = try await withDirector(stateDirectory: state) { director in
            let task = TaskRecord(type: "update_deployment", description: "create deployment", user: "admin", deployment: "web", arguments: "{}", now: 1)
            task.state = "processing"
            try await task.create(on: director.database.database)
            try await LockRecord(name: "lock:deployment:web", type: "deployment", resource: ["web"], taskID: task.id!, expiresAt: 4_000_000_000)
                .create(on: director.database.database)
            return task.id!
        }
        try await withDirector(stateDirectory: state) { director in
            let client = DirectorHTTPClient(director: director)
            let task = try #require(try await client.send(.GET, "/tasks/\(interrupted)").json)
            #expect(task["state"] == "error")
            #expect(task["result"] == "Director restarted while the task was running")
            #expect(try await client.send(.GET, "/locks").json == [])
            let events = try await client.send(.GET, "/tasks/\(interrupted)/output?type=event").body
            #expect(events.contains("\"message\":\"Director restarted while the task was running\""))
        }
    }
}

extension TaskRoutesTests {
    @Test("GET /metrics shows tasks by state, task durations and request latency in Prometheus' format")
    func metrics() async throws {
        try await withDirector(jobs: Self.jobs) { director in
            let client = DirectorHTTPClient(director: director)
            let queued = try await director.tasks.enqueue(type: "update_deployment", description: "create deployment", user: "admin")
            _ = try await Self.waitForEnd(client, queued.id!)
            _ = try await client.send(.GET, "/info", user: nil)
            _ = try await client.send(.GET, "/tasks/\(queued.id!)")
            let metrics = try await client.send(.GET, "/metrics")
            #expect(metrics.status == .ok)
            let text = metrics.body
            #expect(text.contains(#"bosun_tasks{state="done"} 1"#), "\(text)")
            #expect(text.contains(#"bosun_tasks{state="queued"} 0"#))
            #expect(text.contains(#"bosun_task_duration_seconds_count{type="update_deployment",state="done"} 1"#))
            #expect(text.contains(#"bosun_http_request_duration_seconds_count{method="GET",route="/info",status="200"}"#))
            // Routes are labelled by their pattern, not by ids.
            #expect(text.contains(#"route="/tasks/{id}""#) || text.contains(#"route="/tasks/:id""#), "\(text)")
            #expect(try await client.send(.GET, "/metrics", user: nil).status == .unauthorized)
        }
    }
}
