import Blobstore
import AgentProtocol
import BosunCore
import Foundation
import NATS
import NIOCore

/// Why talking to an agent failed; the message names the instance and the method.
public struct AgentClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No reply in time (after BOSH's retries for this method).
        case timedOut
        /// The agent answered with an exception.
        case agentFailed
        /// The reply could not be read, or NATS failed.
        case transport
    }

    public var kind: Kind
    public var description: String
}

/// Talks to one agent: sends a method, waits for the reply, follows async methods through
/// `get_task` until they finish, and retries timeouts only where BOSH does (`get_state` 2×,
/// `get_task` 4×, `upload_blob` 3×).
public struct AgentClient: Sendable {
    public var agentID: String
    /// How the instance is named in errors, e.g. `web/5c2f… (0)`.
    public var instanceName: String
    public var requestTimeout: Duration
    public var taskPollInterval: Duration
    /// Where the time of each call is recorded, when a task is measuring.
    public var ledger: ExternalTimeLedger?
    /// Set when agents hold no blobstore credentials: specs sent get a pre-signed URL per blob.
    public var blobURLs: SignedBlobURLs?
    let router: AgentReplyRouter

    public init(
        router: AgentReplyRouter, agentID: String, instanceName: String, requestTimeout: Duration = .seconds(45),
        taskPollInterval: Duration = .seconds(1)
    ) {
        self.router = router
        self.agentID = agentID
        self.instanceName = instanceName
        self.requestTimeout = requestTimeout
        self.taskPollInterval = taskPollInterval
    }

    /// Sends `method` and returns the final `value` (for async methods, the finished task's result).
    public func send(_ method: AgentMethod) async throws(AgentClientError) -> JSONValue {
        let method = blobURLs?.signing(method) ?? method
        guard let ledger else { return try await unmeasuredSend(method) }
        return try await ledger.measure("agent") { () async throws(AgentClientError) in try await unmeasuredSend(method) }
    }

    private func unmeasuredSend(_ method: AgentMethod) async throws(AgentClientError) -> JSONValue {
        if method.isFireAndForget {
            do {
                try router.send(method, agentID: agentID)
            } catch {
                throw AgentClientError(kind: .transport, description: "Sending '\(method.name)' to instance '\(instanceName)': \(error)")
            }
            return .null
        }
        let response = try await exchange(method)
        guard method.isAsynchronous, let task = response.runningTask else { return try value(of: response, method: method) }
        return try await follow(task, of: method)
    }

    /// Polls `get_task` until the task stops running: every 2 ms for the first 50 polls (most
    /// tasks are short, and an instance's downtime adds up several of them), then less and less
    /// often, up to every `taskPollInterval`.
    private func follow(_ task: AgentTaskHandle, of method: AgentMethod) async throws(AgentClientError) -> JSONValue {
        var interval = min(Duration.milliseconds(2), taskPollInterval)
        var polls = 0
        while true {
            try? await Task.sleep(for: interval)
            polls += 1
            if polls >= 50 { interval = min(interval * 2, taskPollInterval) }
            let response = try await exchange(.getTask(agentTaskID: task.agentTaskID))
            if let still = response.runningTask, still.agentTaskID == task.agentTaskID { continue }
            return try value(of: response, method: method)
        }
    }

    private func value(of response: AgentResponse, method: AgentMethod) throws(AgentClientError) -> JSONValue {
        switch response {
        case .value(let value): return value
        case .exception(let message):
            throw AgentClientError(
                kind: .agentFailed, description: "Action Failed \(method.name) on instance '\(instanceName)': \(message)")
        }
    }

    /// One request/reply, retried after timeouts as often as BOSH retries this method.
    private func exchange(_ method: AgentMethod) async throws(AgentClientError) -> AgentResponse {
        var attempt = 0
        while true {
            do {
                let message = try await router.request(method, agentID: agentID, timeout: requestTimeout)
                return try JSONCoding.decoder.decode(AgentResponse.self, from: Data(message.payload.readableBytesView))
            } catch let error as NATSClientError where error.code == .timeout {
                if attempt < method.timeoutRetries {
                    attempt += 1
                    continue
                }
                throw AgentClientError(
                    kind: .timedOut,
                    description: "Timed out sending '\(method.name)' to instance '\(instanceName)' after \(requestTimeout)")
            } catch let error as DecodingError {
                throw AgentClientError(
                    kind: .transport, description: "Unreadable reply to '\(method.name)' from instance '\(instanceName)': \(error)")
            } catch {
                throw AgentClientError(
                    kind: .transport, description: "Sending '\(method.name)' to instance '\(instanceName)': \(error)")
            }
        }
    }
}
