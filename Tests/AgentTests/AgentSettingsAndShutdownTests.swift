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
            // Both in the system bundle jobs read (update-ca-certificates pointed at the host root).
            let bundle = try String(contentsOfFile: vcap + "/host/etc/ssl/certs/ca-certificates.crt", encoding: .utf8)
            #expect(bundle.contains("MIIBfirst") && bundle.contains("MIIBsecond"))

            // A disk the agent was never told about: an error naming it, and nothing changes.
            let bad = UpdateSettings(trustedCerts: "", diskAssociations: [.init(name: "logs", cid: "disk-9")])
            await #expect {
                _ = try await client.send(.updateSettings(bad))
            } throws: { error in "\(error)".contains("disk-9") }
            let unchanged = try JSONCoding.decoder.decode(UpdateSettings.self, from: try Data(contentsOf: URL(fileURLWithPath: saved)))
            #expect(unchanged == settings)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == device)
            #expect(!FileManager.default.fileExists(atPath: vcap + "/instance/disks/logs"))

            // Trust withdrawn: the certificates leave the store and the bundle.
            _ = try await client.send(.updateSettings(UpdateSettings(trustedCerts: "", diskAssociations: settings.diskAssociations)))
            let emptied = (try? String(contentsOfFile: vcap + "/host/etc/ssl/certs/ca-certificates.crt", encoding: .utf8)) ?? ""
            #expect(!emptied.contains("MIIBfirst") && !emptied.contains("MIIBsecond"))
            #expect(!FileManager.default.fileExists(atPath: vcap + "/host/usr/local/share/ca-certificates/bosh-trusted-cert-1.crt"))
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

extension AgentProcessTests {
    @Test func aNewBlobstoreRestartsTheAgentWhichKeepsItsJobsAndItsTaskResult() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgentProcess { client, director, vcap, agent in
                let pidFile = try Self.applySleeperJob(vcap, echo: "up")
                _ = try await client.send(.start)
                _ = try await waitForJobState(client, "running")
                let sleeper = try Self.readPID(pidFile)

                // Sent raw, to keep the task id across the restart.
                let replies = try await director.subscribe(to: "director.d-1.\(Self.agentID).settings")
                let settings = UpdateSettings(blobstores: [try JSONValue(encoding: blobstore.settings)])
                let request: JSONValue = [
                    "protocol": 3, "method": "update_settings", "arguments": [try JSONValue(encoding: settings)],
                    "reply_to": .string("director.d-1.\(Self.agentID).settings"),
                ]
                try director.publish(String(decoding: try JSONCoding.encoder.encode(request), as: UTF8.self), to: "agent.\(Self.agentID)")
                let first = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try await collect(replies, count: 1)[0].payload.readableBytesView))
                let taskID = try #require(first["value"]?["agent_task_id"]?.stringValue)

                // The agent restarts in place (same process), then answers again.
                let log = vcap + "/bosh/log/current"
                let deadline = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < deadline,
                    (try? String(contentsOfFile: log, encoding: .utf8))?.contains("Restarting the agent") != true
                {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(300))
                try await agent.waitUntilAnswering()
                #expect(agent.isRunning)
                #expect(try String(contentsOfFile: log, encoding: .utf8).contains("agent.reason=blobstores changed"))
                #expect(try await client.send(.getTask(agentTaskID: taskID)) == "ok")

                // The job was taken over, not started again, and is still watched.
                let state = try await waitForJobState(client, "running")
                #expect(state["processes"]?.arrayValue?.first?["name"] == "sleeper")
                #expect(try Self.readPID(pidFile) == sleeper)
                #expect(kill(sleeper, 0) == 0)
                let alerts = try await director.subscribe(to: AgentSubjects.alert(agentID: Self.agentID))
                kill(sleeper, SIGKILL)
                _ = try await collect(alerts, count: 1)
                _ = try await waitForJobState(client, "running")
                let restarted = try Self.readPID(pidFile)
                #expect(restarted != sleeper)
                #expect(try await client.send(.stop) == "stopped")
                #expect(kill(restarted, 0) != 0)
            }
        }
    }
}
