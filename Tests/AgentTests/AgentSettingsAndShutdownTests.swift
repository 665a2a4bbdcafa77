import AgentProtocol
import BosunCore
import Foundation
import NATS
import TestSupport
import Testing

@testable import Director

extension AgentProcessTests {
    static let twoCertificates = """
        -----BEGIN CERTIFICATE-----
        MIIBfirst
        -----END CERTIFICATE-----
        -----BEGIN CERTIFICATE-----
        MIIBsecond
        -----END CERTIFICATE-----
        """

    @Test func updateSettingsKeepsTheSettingsPrivateLinksDisksAndRejectsBadInputWithoutChanges() async throws {
        try await withAgent { client, _, vcap in
            let device = vcap + "/fake-disk-device"
            _ = try await client.send(.addPersistentDisk(diskCID: "disk-1", hint: ["path": .string(device)]))
            let settings = UpdateSettings(trustedCerts: Self.twoCertificates, diskAssociations: [.init(name: "data", cid: "disk-1")])
            let result = try await client.send(.updateSettings(settings))
            #expect(result == "ok")

            let saved = vcap + "/bosh/update_settings.json"
            let stored = try JSONCoding.decoder.decode(UpdateSettings.self, from: try Data(contentsOf: URL(fileURLWithPath: saved)))
            #expect(stored == settings)
            #expect(try FileManager.default.attributesOfItem(atPath: saved)[.posixPermissions] as? Int == 0o600)
            let second = try String(contentsOfFile: vcap + "/bosh/trusted_certs/bosh-trusted-cert-2.crt", encoding: .utf8)
            #expect(second == "-----BEGIN CERTIFICATE-----\nMIIBsecond\n-----END CERTIFICATE-----\n")
            let link = vcap + "/instance/disks/data"
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == device)

            // A disk the agent was never told about: an error naming it, and nothing changes.
            let bad = UpdateSettings(trustedCerts: "", diskAssociations: [.init(name: "logs", cid: "disk-9")])
            await #expect {
                _ = try await client.send(.updateSettings(bad))
            } throws: { error in "\(error)".contains("disk-9") }
            let unchanged = try JSONCoding.decoder.decode(UpdateSettings.self, from: try Data(contentsOf: URL(fileURLWithPath: saved)))
            #expect(unchanged == settings)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == device)
            #expect(!FileManager.default.fileExists(atPath: vcap + "/instance/disks/logs"))
        }
    }

    @Test func shutdownAnnouncesItselfStopsTheJobsAndEndsTheAgent() async throws {
        try await withAgentProcess { client, director, vcap, agent in
            let pidFile = try Self.applySleeperJob(vcap, echo: "up")
            _ = try await client.send(.start)
            _ = try await waitForJobState(client, "running")
            let worker = try Self.readPID(pidFile)

            let notices = try await director.subscribe(to: AgentSubjects.shutdown(agentID: Self.agentID))
            _ = try await client.send(.shutdown)  // fire-and-forget on the director's side, as in BOSH
            let notice = try await collect(notices, count: 1)
            #expect(notice.map(\.string) == ["null"])
            let deadline = ContinuousClock.now + .seconds(15)
            while agent.isRunning && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(!agent.isRunning)
            #expect(kill(worker, 0) != 0)
        }
    }
}
