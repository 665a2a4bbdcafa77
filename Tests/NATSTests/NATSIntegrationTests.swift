import Foundation
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import NATS

/// The client against a real nats-server started for each test.
@Suite(.serialized, .timeLimit(.minutes(1))) struct NATSIntegrationTests {
    @Test func publishAndSubscribe() async throws {
        let server = try NATSServerProcess()
        try server.start()
        try await withRunningClient(configuration(server)) { client in
            let subscription = try await client.subscribe(to: "greetings.*")
            for i in 0..<10 { try client.publish("hello \(i)", to: "greetings.world") }
            let messages = try await collect(subscription, count: 10)
            #expect(messages.map(\.string) == (0..<10).map { "hello \($0)" })
            #expect(messages.allSatisfy { $0.subject == "greetings.world" })
        }
    }

    @Test func requestAndReply() async throws {
        let server = try NATSServerProcess()
        try server.start()
        try await withRunningClient(configuration(server)) { responder in
            let service = try await responder.subscribe(to: "echo")
            try await withRunningClient(configuration(server)) { requester in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in service {
                            try responder.publish("echo: " + message.string, to: message.replyTo!)
                        }
                    }
                    // Many concurrent requests share one inbox subscription.
                    try await withThrowingTaskGroup(of: (Int, String).self) { requests in
                        for i in 0..<50 {
                            requests.addTask { (i, try await requester.request("\(i)", to: "echo", timeout: .seconds(5)).string) }
                        }
                        for try await (i, reply) in requests { #expect(reply == "echo: \(i)") }
                    }
                    responder.unsubscribe(service)
                    try await group.waitForAll()
                }
                await #expect(throws: NATSClientError.self) {
                    _ = try await requester.request("anyone?", to: "nobody.home", timeout: .milliseconds(200))
                }
            }
        }
    }

    @Test func queueGroupsDeliverEachMessageOnce() async throws {
        let server = try NATSServerProcess()
        try server.start()
        try await withRunningClient(configuration(server)) { client in
            let a = try await client.subscribe(to: "work", queue: "workers")
            let b = try await client.subscribe(to: "work", queue: "workers")
            for i in 0..<200 { try client.publish("\(i)", to: "work") }
            // Read both members until all 200 arrived (no fixed sleep: CI machines are slow).
            let seen = Deliveries()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, member) in [("a", a), ("b", b)] {
                    group.addTask {
                        for try await message in member where seen.record(name, message.string) == 200 {
                            client.unsubscribe(a)
                            client.unsubscribe(b)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(Set(seen.all.map(\.text)).count == 200)
            let fromA = seen.all.filter { $0.member == "a" }.count
            #expect(fromA > 0 && fromA < 200)
        }
    }

    @Test func oversizedPayloadIsRefusedBeforeSending() async throws {
        var options = NATSServerProcess.Options()
        options.maxPayload = 1024
        let server = try NATSServerProcess(options: options)
        try server.start()
        try await withRunningClient(configuration(server)) { client in
            #expect(client.maxPayload == 1024)
            #expect {
                try client.publish(ByteBuffer(repeating: 1, count: 2000), to: "big")
            } throws: { error in
                let error = error as? NATSClientError
                return error?.code == .payloadTooLarge && error!.message.contains("2000 bytes")
                    && error!.message.contains("1024 bytes")
            }
            try client.publish(ByteBuffer(repeating: 1, count: 1024), to: "big")
            try await client.flush()
        }
    }

    @Test func tlsWithClientCertificates() async throws {
        var options = NATSServerProcess.Options()
        options.tls = true
        let server = try NATSServerProcess(options: options)
        try server.start()
        try await withRunningClient(configuration(server)) { client in
            let subscription = try await client.subscribe(to: "secure")
            try client.publish("over tls", to: "secure")
            #expect(try await collect(subscription, count: 1).first?.string == "over tls")
        }
        // Without a certificate, or with one from another CA, the server refuses the client.
        for client in [nil, "rogue-ca-client"] as [String?] {
            let config = configuration(server, client: client)
            let nats = try NATSClient(configuration: config, logger: .init(label: "refused"))
            await #expect(throws: NATSClientError.self) {
                _ = try await NATSConnection.connect(
                    to: NATSEndpoint(config.servers[0])!, configuration: config, sslContext: nats.sslContext,
                    delegate: nats, group: nats.group, logger: nats.logger)
            }
        }
    }

    @Test func agentCertificateCannotSubscribeToAnotherAgent() async throws {
        var options = NATSServerProcess.Options()
        options.tls = true
        options.users = [
            .init(commonName: "agent-1", publish: ["hm.agent.heartbeat.agent-1", "director.*.agent-1.*"], subscribe: ["agent.agent-1"])
        ]
        let server = try NATSServerProcess(options: options)
        try server.start()
        try await withRunningClient(configuration(server, client: "agent-1")) { agent in
            _ = try await agent.subscribe(to: "agent.agent-1")
            await #expect {
                _ = try await agent.subscribe(to: "agent.agent-2")
            } throws: { error in
                let error = error as? NATSClientError
                return error?.code == .permissionViolation && error!.message.contains("agent.agent-2")
            }
            // The connection survives the refusal.
            try await agent.flush()
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct NATSReconnectTests {
    /// The server is killed mid-stream and restarted on the same port: the client reconnects,
    /// re-subscribes, and every request either gets its own reply or fails visibly.
    @Test func survivesAServerCrash() async throws {
        let server = try NATSServerProcess()
        try server.start()
        try await withRunningClient(configuration(server)) { responder in
            let service = try await responder.subscribe(to: "svc")
            try await withRunningClient(configuration(server)) { requester in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in service {
                            try? responder.publish("re: " + message.string, to: message.replyTo!)
                        }
                    }
                    var replies = 0
                    var failures = 0
                    for i in 0..<60 {
                        if i == 20 {
                            server.kill()
                            try await Task.sleep(for: .milliseconds(300))
                            try server.start()
                        }
                        do {
                            let reply = try await requester.request("\(i)", to: "svc", timeout: .milliseconds(700))
                            #expect(reply.string == "re: \(i)")  // never someone else's reply
                            replies += 1
                        } catch let error as NATSClientError {
                            #expect(error.code == .timeout || error.code == .notConnected, "\(error)")
                            failures += 1
                        }
                    }
                    #expect(replies + failures == 60)
                    #expect(requester.connectionCount == 2)
                    #expect(responder.connectionCount == 2)
                    #expect(replies >= 30, "replies \(replies), failures \(failures)")
                    // After the restart both clients are back and the subscription works again.
                    try await responder.waitUntilConnected()
                    try await responder.flush()
                    let last = try await requester.request("last", to: "svc", timeout: .seconds(2))
                    #expect(last.string == "re: last")
                    responder.unsubscribe(service)
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func publishesWhileDisconnectedAreDeliveredAfterReconnecting() async throws {
        let server = try NATSServerProcess()
        try server.start()
        try await withRunningClient(configuration(server)) { listener in
            let subscription = try await listener.subscribe(to: "buffered")
            try await withRunningClient(configuration(server)) { publisher in
                server.kill()
                // Wait until the publisher noticed, then publish into the reconnect buffer.
                while publisher.isConnected { try await Task.sleep(for: .milliseconds(20)) }
                for i in 0..<5 { try publisher.publish("\(i)", to: "buffered") }
                try server.start()
                try await publisher.waitUntilConnected()
                try await listener.waitUntilConnected()
                // Once the server has the listener's re-sent SUB (flush), a new message must arrive.
                // Buffered ones may have reached the server before the listener was back.
                try await listener.flush()
                try publisher.publish("after", to: "buffered")
                var received: [String] = []
                for try await message in subscription {
                    received.append(message.string)
                    if message.string == "after" { break }
                }
                #expect(received.last == "after")
                #expect(Set(received).count == received.count)
            }
        }
    }

    @Test func reconnectBufferIsBounded() async throws {
        var configuration = NATSClientConfiguration(servers: [URL(string: "nats://127.0.0.1:1")!])
        configuration.reconnectBufferSize = 100
        let client = try NATSClient(configuration: configuration, logger: .init(label: "bounded"))
        try client.publish("small", to: "a")
        #expect {
            try client.publish(ByteBuffer(repeating: 0, count: 200), to: "a")
        } throws: { error in
            (error as? NATSClientError)?.code == .reconnectBufferFull
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct NATSLivenessTests {
    /// A server that stops answering (frozen, sockets still open) is detected by unanswered PINGs;
    /// the client reconnects once it answers again.
    @Test func detectsAHungServer() async throws {
        let server = try NATSServerProcess()
        try server.start()
        var config = configuration(server)
        config.pingInterval = .milliseconds(200)
        config.maxOutstandingPings = 2
        config.connectTimeout = .milliseconds(500)
        try await withRunningClient(config) { client in
            server.freeze()
            let frozenAt = ContinuousClock.now
            while client.isConnected { try await Task.sleep(for: .milliseconds(20)) }
            let detection = ContinuousClock.now - frozenAt
            // Detected by the pings (about 0.6 s here), not by TCP, which would take minutes; the
            // bound is loose so a busy machine cannot fail it.
            #expect(detection < .seconds(20), "took \(detection)")
            server.thaw()
            try await client.waitUntilConnected()
            #expect(client.connectionCount == 2)
            try await client.flush()
        }
    }

    @Test func failsOverToTheNextURL() async throws {
        let server = try NATSServerProcess()
        try server.start()
        var config = configuration(server)
        config.servers = [URL(string: "nats://127.0.0.1:1")!, server.url]
        try await withRunningClient(config) { client in
            try await client.flush()
            #expect(client.isConnected)
        }
    }

    @Test func drainEndsSubscriptionsAndRun() async throws {
        let server = try NATSServerProcess()
        try server.start()
        try await withRunningClient(configuration(server)) { client in
            let subscription = try await client.subscribe(to: "drained")
            client.drain()
            var count = 0
            for try await _ in subscription { count += 1 }  // ends when the client finishes
            #expect(count == 0)
            #expect(!client.isConnected)
            #expect(throws: NATSClientError.self) { try client.publish("late", to: "drained") }
        }
    }
}

@Suite struct NATSEndpointTests {
    @Test func parsesURLsAndConnectURLs() {
        #expect(NATSEndpoint(URL(string: "tls://10.244.0.1:4223")!) == NATSEndpoint(host: "10.244.0.1", port: 4223, tls: true))
        #expect(NATSEndpoint(URL(string: "nats://nats.internal")!)?.port == 4222)
        #expect(NATSEndpoint(URL(string: "http://x:1")!) == nil)
        #expect(NATSEndpoint(connectURL: "10.0.0.2:4222", tls: false) == NATSEndpoint(host: "10.0.0.2", port: 4222, tls: false))
        #expect(NATSEndpoint(host: "10.0.0.2", port: 1, tls: true).hostIsIPAddress)
        #expect(!NATSEndpoint(host: "nats.internal", port: 1, tls: true).hostIsIPAddress)
    }

    @Test func learnsServersFromInfo() throws {
        let client = try NATSClient(
            configuration: .init(servers: [URL(string: "nats://127.0.0.1:4222")!]), logger: .init(label: "t"))
        var info = ServerInfo(serverID: "S", maxPayload: 1024)
        info.connectURLs = ["10.0.0.2:4222", "127.0.0.1:4222"]
        client.serverInfoChanged(info)
        #expect(client.state.withLock { $0.endpoints.map(\.description) } == ["nats://127.0.0.1:4222", "nats://10.0.0.2:4222"])
    }
}

/// Messages seen by queue-group members, in arrival order.
final class Deliveries: Sendable {
    private let items = Mutex<[(member: String, text: String)]>([])

    var all: [(member: String, text: String)] { items.withLock { $0 } }

    /// Records a delivery and returns how many there are now.
    func record(_ member: String, _ text: String) -> Int {
        items.withLock {
            $0.append((member, text))
            return $0.count
        }
    }
}
