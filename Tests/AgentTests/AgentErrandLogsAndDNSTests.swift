import AgentProtocol
import Blobstore
import BosunCore
import Foundation
import NATS
import TestSupport
import Testing

@testable import Director

/// `run_errand`, `fetch_logs` and `sync_dns` on the real agent with the real blobstore.
extension AgentProcessTests {
    /// Writes an enabled job directly (as `apply` leaves it) with an executable `bin/run`.
    static func writeErrandJob(_ vcap: String, name: String, script: String) throws {
        let bin = vcap + "/jobs/\(name)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try script.write(toFile: bin + "/run", atomically: true, encoding: .utf8)
        chmod(bin + "/run", 0o755)
    }

    static func listTarball(_ file: String) throws -> [String] {
        let tar = Process()
        let pipe = Pipe()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-tzf", file]
        tar.standardOutput = pipe
        try tar.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        tar.waitUntilExit()
        return output.split(separator: "\n").map(String.init).filter { !$0.hasSuffix("/") }.sorted()
    }

    @Test func runErrandReportsOutputAndExitCodeAndCanBeCancelled() async throws {
        try await withAgent { client, director, vcap in
            try Self.writeErrandJob(vcap, name: "smoke-tests", script: "#!/bin/sh\necho checking $BOSH_JOB_NAME\necho 'one check failed' >&2\nexit 3\n")
            let result = try await client.send(.runErrand(name: "smoke-tests"))
            #expect(result == ["stdout": "checking smoke-tests\n", "stderr": "one check failed\n", "exit_code": 3])
            #expect(try String(contentsOfFile: vcap + "/data/sys/log/smoke-tests/errand.stdout.log", encoding: .utf8) == "checking smoke-tests\n")

            await #expect {
                _ = try await client.send(.runErrand(name: "no-such-errand"))
            } throws: { error in "\(error)".contains("Errand job no-such-errand has no bin/run") }

            // A long errand, cancelled: it gets SIGTERM (its trap runs) and the task ends as cancelled.
            let marker = vcap + "/errand-terminated"
            try Self.writeErrandJob(vcap, name: "long", script: "#!/bin/sh\ntrap 'echo terminated > \(marker); exit 143' TERM\nsleep 1000 &\nwait\n")
            let replies = try await director.subscribe(to: "director.d-1.\(Self.agentID).errand")
            try director.publish(
                #"{"protocol":3,"method":"run_errand","arguments":["long"],"reply_to":"director.d-1.agent-1.errand"}"#, to: "agent.\(Self.agentID)")
            let started = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try await collect(replies, count: 1)[0].payload.readableBytesView))
            let taskID = try #require(started["value"]?["agent_task_id"]?.stringValue)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.send(.cancelTask(agentTaskID: taskID)) == "canceled")
            var outcome = ""
            for _ in 0..<100 {
                do {
                    let state = try await client.send(.getTask(agentTaskID: taskID))
                    if state["state"] == "running" {
                        try await Task.sleep(for: .milliseconds(50))
                        continue
                    }
                    outcome = "\(state)"
                } catch {
                    outcome = "\(error)"
                }
                break
            }
            #expect(outcome.contains("cancelled"), "\(outcome)")
            #expect(try String(contentsOfFile: marker, encoding: .utf8) == "terminated\n")
        }
    }

    @Test func fetchLogsPacksTheChosenLogsIntoTheBlobstore() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgent(blobstore: blobstore.settings) { client, _, vcap in
                let logs = vcap + "/data/sys/log/web"
                try FileManager.default.createDirectory(atPath: logs + "/archive", withIntermediateDirectories: true)
                for (file, text) in [("web.stdout.log", "out\n"), ("archive/old.log", "old\n"), ("notes.txt", "n\n")] {
                    try text.write(toFile: logs + "/" + file, atomically: true, encoding: .utf8)
                }
                let store = try blobstore.client()
                func fetch(_ types: [String], _ filters: [String]?) async throws -> [String] {
                    let result = try await client.send(.fetchLogs(logTypes: types, filters: filters))
                    let id = try #require(result["blobstore_id"]?.stringValue)
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-logs-\(UUID().uuidString).tgz").path
                    defer { unlink(file) }
                    try await store.get(id, digest: try BlobDigest(try #require(result["sha1"]?.stringValue)), to: file)
                    return try Self.listTarball(file)
                }
                #expect(try await fetch(["job"], ["**/*.log"]) == ["./web/archive/old.log", "./web/web.stdout.log"])
                #expect(try await fetch(["job"], ["web/*.log"]) == ["./web/web.stdout.log"])
                let both = try await fetch(["job", "agent"], nil)
                #expect(both.contains("./job/web/notes.txt"))
                #expect(both.contains("./agent/current"), "\(both)")
                await #expect {
                    _ = try await client.send(.fetchLogs(logTypes: ["kernel"], filters: nil))
                } throws: { error in "\(error)".contains("Unknown log type 'kernel'") }
            }
        }
    }

    @Test func syncDNSWritesNewerRecordsAndHostsOnly() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgent(blobstore: blobstore.settings) { client, _, vcap in
                let store = try blobstore.client()
                func publish(version: Int, records: [[String]]) async throws -> (String, String) {
                    let document: JSONValue = ["version": .int(version), "records": .array(records.map { .array($0.map(JSONValue.string)) })]
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-dns-\(UUID().uuidString)").path
                    defer { unlink(file) }
                    try JSONCoding.encoder.encode(document).write(to: URL(fileURLWithPath: file))
                    return (try await store.put(fileAt: file), try await BlobFiles.digest(ofFileAt: file, algorithm: .sha1))
                }
                // The VM's own lines (from the CPI) stay above the records.
                try FileManager.default.createDirectory(atPath: vcap + "/host/etc", withIntermediateDirectories: true)
                let own = "127.0.0.1 localhost\n10.244.0.2 vm-self\n"
                try own.write(toFile: vcap + "/host/etc/hosts", atomically: true, encoding: .utf8)
                let (id, sha1) = try await publish(version: 2, records: [["10.244.0.5", "c0ffee.web.default.shop.bosh"], ["10.244.0.6", "bad name\nwith newline"]])
                #expect(try await client.send(.syncDNS(blobstoreID: id, sha1: sha1, version: 2)) == "synced")
                let hosts = try String(contentsOfFile: vcap + "/host/etc/hosts", encoding: .utf8)
                #expect(hosts.contains("10.244.0.5 c0ffee.web.default.shop.bosh\n"))
                #expect(!hosts.contains("bad name"))
                #expect(FileManager.default.fileExists(atPath: vcap + "/instance/dns/records.json"))

                // An older version changes nothing.
                let (oldID, oldSHA1) = try await publish(version: 1, records: [["10.244.0.9", "stale.bosh"]])
                #expect(try await client.send(.syncDNS(blobstoreID: oldID, sha1: oldSHA1, version: 1)) == "synced")
                #expect(try String(contentsOfFile: vcap + "/host/etc/hosts", encoding: .utf8) == hosts)
                #expect(hosts.hasPrefix(own), "\(hosts)")

                // A newer version replaces the records, not the VM's own lines.
                let (newID, newSHA1) = try await publish(version: 3, records: [["10.244.0.8", "fresh.web.default.shop.bosh"]])
                #expect(try await client.send(.syncDNS(blobstoreID: newID, sha1: newSHA1, version: 3)) == "synced")
                let replaced = try String(contentsOfFile: vcap + "/host/etc/hosts", encoding: .utf8)
                #expect(replaced.hasPrefix(own) && replaced.contains("10.244.0.8 fresh.web.default.shop.bosh\n"), "\(replaced)")
                #expect(!replaced.contains("c0ffee") && replaced.components(separatedBy: "vm-self").count == 2, "\(replaced)")
            }
        }
    }
}
