import AgentProtocol
import BosunCore
import Foundation

/// `ping` → `"pong"`: the director's readiness probe.
struct PingAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue { "pong" }
}

/// `info` → `{"api_version": 1}`.
struct InfoAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue { ["api_version": 1] }
}

/// `get_task(id)`: still running → the task handle again; finished → its value; failed → exception.
struct GetTaskAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let id = try arguments.string(0, "agent_task_id")
        switch await agent.tasks.state(of: id) {
        case nil: throw ActionError("Task with id \(id) could not be found")
        case .running?: return ["agent_task_id": .string(id), "state": "running"]
        case .finished(let value)?: return value
        case .failed(let message)?: throw ActionError("Task \(id) result: \(message)")
        }
    }
}

/// `cancel_task(id)` → `"canceled"`.
struct CancelTaskAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let id = try arguments.string(0, "agent_task_id")
        guard await agent.tasks.cancel(id) else { throw ActionError("Task with id \(id) could not be found") }
        return "canceled"
    }
}

/// `get_state([“full”])`: the applied spec plus agent id, job state, processes and (full) vitals.
struct GetStateAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        var state: [String: JSONValue] = [:]
        let spec = agent.appliedSpec()
        if case .object(let fields) = spec { state = fields }
        state["agent_id"] = .string(agent.settings.agentID)
        let snapshot = await agent.stateSnapshot(spec: spec)
        state["job_state"] = .string(snapshot.jobState)
        state["processes"] = .array(snapshot.processes.map {
            // `ms` is Bosun's: the director times an instance's downtime from it.
            ["name": .string($0.name), "state": .string($0.state), "uptime": ["secs": .int(Int($0.uptime)), "ms": .int(Int($0.uptime * 1000))]]
        })
        state["vm"] = ["name": .string(agent.settings.vm.name)]
        if arguments.first == "full" {
            state["vitals"] = (try? JSONValue(encoding: Vitals.current(paths: agent.paths))) ?? .null
        }
        return .object(state)
    }
}

/// `upload_blob({blob_id, checksum, payload})`: a blob delivered over NATS (rendered templates with
/// credentials) goes into `sensitive_blobs` after its SHA-1 checks out; never logged.
struct UploadBlobAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let blob = try arguments.object(0, "blob").decode(as: UploadBlob.self)
        guard !blob.blobID.isEmpty, !blob.blobID.contains("/"), !blob.blobID.hasPrefix(".") else {
            throw ActionError("Invalid blob id")
        }
        guard let data = Data(base64Encoded: blob.payload) else { throw ActionError("Payload is not base64") }
        let digest = SHA1.hex(data)
        guard digest == blob.checksum.lowercased() else {
            throw ActionError("Checksum mismatch for blob \(blob.blobID): expected \(blob.checksum), got \(digest)")
        }
        let path = agent.paths.sensitiveBlobs + "/" + blob.blobID
        do {
            try Filesystem.writePrivately(data, to: path)
        } catch {
            throw ActionError("Cannot write blob \(blob.blobID)")
        }
        return .string(blob.blobID)
    }
}

/// `delete_arp_entries({ips})`: forget stale neighbours after another VM took an address.
struct DeleteARPEntriesAction: AgentAction {
    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        guard case .array(let ips)? = try arguments.object(0, "ips")["ips"] else { return .null }
        for case .string(let ip) in ips where IPv4Address(ip) != nil {
            await ProcessRunner.quiet("/usr/sbin/ip", ["neigh", "flush", "to", ip])
        }
        return .null
    }
}
