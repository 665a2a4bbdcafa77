import AgentProtocol
import BosunCore
import Foundation
import NATS
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import Director

/// The director's agent client against a real nats-server with BOSH's subject permissions, and a
/// stand-in agent that answers the way bosh-agent does.
@Suite(.serialized, .timeLimit(.minutes(1))) struct AgentClientTests {
    static let agentID = "agent-1"

    static func server() throws -> NATSServerProcess {
        let server = try NATSServerProcess(options: .init(tls: true, users: [
            .init(
                commonName: agentID,
                publish: ["hm.agent.heartbeat.\(agentID)", "hm.agent.alert.\(agentID)", "director.*.\(agentID).*"],
                subscribe: ["agent.\(agentID)"])
        ]))
        try server.start()
        return server
    }

    /// Runs a stand-in agent that answers each method with `answer`, recording what it received.
    /// `requestTimeout` is short only where a test waits for timeouts; elsewhere it is generous, so
    /// a busy machine (the whole suite runs in parallel) cannot turn a slow reply into a failure.
    func withAgent(
        _ server: NATSServerProcess, requestTimeout: Duration = .seconds(10), answer: @escaping @Sendable (AgentRequest) -> AgentResponse?,
        _ body: @escaping @Sendable (AgentClient, ReceivedMethods) async throws -> Void
    ) async throws {
        let received = ReceivedMethods()
        try await withRunningClient(configuration(server, client: Self.agentID)) { agentNATS in
            let inbox = try await agentNATS.subscribe(to: AgentSubjects.inbox(agentID: Self.agentID))
            try await withRunningClient(configuration(server)) { directorNATS in
                let router = try await AgentReplyRouter(nats: directorNATS, directorUUID: "d-1")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await router.route() }
                    group.addTask {
                        for try await message in inbox {
                            let request = try JSONCoding.decoder.decode(AgentRequest.self, from: Data(message.payload.readableBytesView))
                            received.append(request.method + (request.arguments.first?.stringValue.map { "(\($0))" } ?? ""))
                            if let response = answer(request) {
                                try agentNATS.publish(ByteBuffer(bytes: try JSONCoding.encoder.encode(response)), to: request.replyTo)
                            }
                        }
                    }
                    let client = AgentClient(
                        router: router, agentID: Self.agentID, instanceName: "web/uuid-1 (0)",
                        requestTimeout: requestTimeout, taskPollInterval: .milliseconds(20))
                    try await body(client, received)
                    agentNATS.unsubscribe(inbox)
                    router.stop()
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func synchronousMethodReturnsItsValue() async throws {
        let server = try Self.server()
        try await withAgent(server, answer: { _ in .value("pong") }) { client, _ in
            let reply = try await client.send(.ping)
            #expect(reply == "pong")
        }
    }

    @Test func asynchronousMethodIsFollowedThroughGetTask() async throws {
        let server = try Self.server()
        let polls = Mutex(0)
        try await withAgent(server, answer: { request in
            switch request.method {
            case "apply": return .value(["agent_task_id": "t-1", "state": "running"])
            case "get_task":
                let count = polls.withLock { count in
                    count += 1
                    return count
                }
                return count < 3 ? .value(["agent_task_id": "t-1", "state": "running"]) : .value("applied")
            default: return .unknownMethod(request.method)
            }
        }) { client, received in
            let spec = ApplySpec(
                deployment: "d", job: .init(name: "web", templates: []), index: 0, name: "web", id: "uuid-1", az: nil,
                networks: [:], packages: [:], configurationHash: nil, persistentDisk: 0, renderedTemplatesArchive: nil)
            let result = try await client.send(.apply(spec))
            #expect(result == "applied")
            #expect(received.all == ["apply", "get_task(t-1)", "get_task(t-1)", "get_task(t-1)"])
        }
    }

    @Test func agentExceptionsNameTheInstanceAndMethod() async throws {
        let server = try Self.server()
        try await withAgent(server, answer: { _ in .exception("Starting jobs: greeter failed") }) { client, _ in
            await #expect {
                _ = try await client.send(.start)
            } throws: { error in
                let error = error as? AgentClientError
                return error?.kind == .agentFailed
                    && error?.description == "Action Failed start on instance 'web/uuid-1 (0)': Starting jobs: greeter failed"
            }
        }
    }

    @Test func timeoutsAreRetriedOnlyWhereBoshRetries() async throws {
        let server = try Self.server()
        try await withAgent(server, requestTimeout: .milliseconds(300), answer: { _ in nil }) { client, received in
            await #expect {
                _ = try await client.send(.getState(full: false))
            } throws: { error in
                (error as? AgentClientError)?.description.hasPrefix("Timed out sending 'get_state' to instance 'web/uuid-1 (0)'") == true
            }
            #expect(received.all == ["get_state", "get_state", "get_state"])  // 1 + 2 retries
            received.reset()
            await #expect(throws: AgentClientError.self) { _ = try await client.send(.stop) }
            #expect(received.all == ["stop"])  // no retry
        }
    }

    @Test func fireAndForgetDoesNotWait() async throws {
        let server = try Self.server()
        try await withAgent(server, requestTimeout: .milliseconds(300), answer: { _ in nil }) { client, received in
            let result = try await client.send(.shutdown)
            #expect(result == .null)
            while received.all.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(received.all == ["shutdown"])
        }
    }
}

/// What the stand-in agent was asked, in order.
final class ReceivedMethods: Sendable {
    private let methods = Mutex<[String]>([])

    var all: [String] { methods.withLock { $0 } }

    func append(_ method: String) { methods.withLock { $0.append(method) } }

    func reset() { methods.withLock { $0 = [] } }
}
