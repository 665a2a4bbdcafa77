import Foundation
import Logging
import NIOCore
import ServiceLifecycle

import NATS

/// Runs a client as a service inside a `ServiceGroup` for the duration of `body`, then shuts it down
/// gracefully.
public func withRunningClient<T: Sendable>(
    _ configuration: NATSClientConfiguration, waitForConnection: Bool = true,
    _ body: @escaping @Sendable (NATSClient) async throws -> T
) async throws -> T {
    var logger = Logger(label: "nats-test")
    logger.logLevel = ProcessInfo.processInfo.environment["NATS_TEST_LOG"] == nil ? .critical : .trace
    let client = try NATSClient(configuration: configuration, logger: logger)
    // A drained client ends its run() on purpose; that ends the group instead of failing it.
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: client, successTerminationBehavior: .gracefullyShutdownGroup)], logger: logger))
    return try await whileRunning(group) {
        if waitForConnection { try await client.waitUntilConnected() }
        return try await body(client)
    }
}

/// Runs `group` for as long as `body` runs, then shuts it down gracefully and returns `body`'s value.
public func whileRunning<T: Sendable>(_ group: ServiceGroup, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        tasks.addTask {
            defer { Task { await group.triggerGracefulShutdown() } }
            return try await body()
        }
        var result: T?
        for try await value in tasks {
            if let value { result = value }
        }
        return result!
    }
}

public func configuration(_ server: NATSServerProcess, client: String? = "director") -> NATSClientConfiguration {
    var configuration = NATSClientConfiguration(
        servers: [server.url], pingInterval: .seconds(1), reconnectDelay: .milliseconds(100),
        maxReconnectDelay: .milliseconds(500))
    if server.options.tls {
        configuration.tls = .init(
            caFile: server.path("ca.crt"), certificateFile: client.map { server.path("\($0).crt") },
            privateKeyFile: client.map { server.path("\($0).key") })
    }
    return configuration
}

/// The first `count` messages of a subscription.
public func collect(_ subscription: NATSSubscription, count: Int) async throws -> [NATSMessage] {
    var messages: [NATSMessage] = []
    for try await message in subscription {
        messages.append(message)
        if messages.count == count { break }
    }
    return messages
}
