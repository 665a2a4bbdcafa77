import Foundation
import Testing

@testable import Director

struct NATSServerConfigurationTests {
    @Test func eachAgentMayOnlyUseItsOwnSubjects() {
        let text = NATSServerConfiguration(
            host: "10.244.0.1", port: 4222, certificatePath: "/s/nats.crt", keyPath: "/s/nats.key", caPath: "/s/ca.crt",
            agentIDs: ["b-2", "a-1"], pidFile: "/s/nats.pid"
        ).rendered()
        #expect(text.contains("host: \"10.244.0.1\"\nport: 4222\n"))
        #expect(text.contains("verify_and_map: true"))
        #expect(text.contains("pid_file: \"/s/nats.pid\""))
        #expect(text.contains(
            "{ user: \"a-1.agent.bosun-internal\", permissions: { publish: [\"hm.agent.heartbeat.a-1\", \"hm.agent.alert.a-1\", \"hm.agent.shutdown.a-1\", \"director.*.a-1.*\"], subscribe: [\"agent.a-1\"] } }"))
        #expect(text.contains("{ user: \"default.director.bosun-internal\", permissions: { publish: [\"agent.*\", \"hm.director.alert\"]"))
        // Sorted, so rewriting for the same agents changes nothing.
        #expect(text.range(of: "a-1.agent")!.lowerBound < text.range(of: "b-2.agent")!.lowerBound)
    }

    @Test func natsSettingsAreReadAndBadOnesNamed() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-nats-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        try "address: 10.0.0.6\nnats: {address: 10.244.0.1, port: 0}\n".write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        let configuration = try DirectorConfiguration.load(stateDirectory: state)
        #expect(configuration.natsAddress == "10.244.0.1")
        #expect(configuration.natsPort == 0)
        #expect(try DirectorConfiguration.load(stateDirectory: "/nonexistent").natsPort == 4222)
        try "nats: {port: many}\n".write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        #expect {
            try DirectorConfiguration.load(stateDirectory: state)
        } throws: { error in
            "\(error)".hasSuffix("config.yml: nats.port must be a port number, found many")
        }
    }
}
