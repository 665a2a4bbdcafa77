import AgentProtocol
import Blobstore
import BosunCore
import Foundation
import NATS
import NIOCore
import TestSupport
import Testing

@testable import Director

/// The real `bosun-agent` binary, run as a process with a private `/var/vcap` root, against a real
/// nats-server with BOSH's per-agent permissions, driven by the director's AgentClient.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct AgentProcessTests {
    static let agentID = "agent-1"

    static let binary = BuiltProduct.path("bosun-agent")

    /// Starts nats-server and the agent; runs `body` with an AgentClient; stops everything.
    func withAgent(
        blobstore: BlobstoreSettings? = nil, _ body: @escaping @Sendable (AgentClient, NATSClient, String) async throws -> Void
    ) async throws {
        try await withAgentProcess(blobstore: blobstore) { client, director, vcap, _ in try await body(client, director, vcap) }
    }

    /// The `bosun-agent` process of a test, with its private root; its output goes to `log`.
    final class AgentProcess: @unchecked Sendable {
        let binary: String
        let vcap: String
        let log: String
        /// Set once the director side is up; used to wait for the agent to answer.
        var client: AgentClient?
        private let lock = NSLock()
        private var process: Process?

        init(binary: String, vcap: String, log: String) {
            self.binary = binary
            self.vcap = vcap
            self.log = log
        }

        var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

        func start() throws {
            let agent = Process()
            agent.executableURL = URL(fileURLWithPath: binary)
            agent.arguments = ["--root", vcap, "--no-mounts", "--heartbeat-seconds", "0.2", "--logrotate-seconds", "0.2"]
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let output = FileHandle(forWritingAtPath: log)
            output?.seekToEndOfFile()
            agent.standardOutput = output
            agent.standardError = output
            try agent.run()
            lock.withLock { process = agent }
        }

        /// SIGTERM, then waits for the exit.
        func stop() {
            guard let agent = lock.withLock({ process }) else { return }
            if agent.isRunning { agent.terminate() }
            agent.waitUntilExit()
        }

        /// Stops the agent, runs `between` (a "reboot": wipe a tmpfs, …), starts it again and waits
        /// until it answers.
        func restart(between: () throws -> Void = {}) async throws {
            stop()
            try between()
            try start()
            try await waitUntilAnswering()
        }

        /// The agent connects in the background; waits until it answers `ping` (or fails if it died).
        func waitUntilAnswering() async throws {
            guard var probe = client else { throw AgentTestError("no director client yet") }
            probe.requestTimeout = .milliseconds(300)
            let deadline = ContinuousClock.now + .seconds(20)
            while isRunning && ContinuousClock.now < deadline {
                if (try? await probe.send(.ping)) == "pong" { return }
            }
            throw AgentTestError("the agent never answered ping (running: \(isRunning))")
        }
    }

    /// As `withAgent`, also handing `body` the agent process, to check on or restart.
    func withAgentProcess(
        blobstore: BlobstoreSettings? = nil,
        _ body: @escaping @Sendable (AgentClient, NATSClient, String, AgentProcess) async throws -> Void
    ) async throws {
        let server = try NATSServerProcess(options: .init(tls: true, users: [
            .init(
                commonName: Self.agentID,
                publish: ["hm.agent.heartbeat.\(Self.agentID)", "hm.agent.alert.\(Self.agentID)", "hm.agent.shutdown.\(Self.agentID)", "director.*.\(Self.agentID).*"],
                subscribe: ["agent.\(Self.agentID)"])
        ]))
        try server.start()
        let root = server.directory.appendingPathComponent("vm").path
        let vcap = root + "/vcap"
        try FileManager.default.createDirectory(atPath: vcap + "/bosh", withIntermediateDirectories: true)
        func pem(_ name: String) throws -> JSONValue { .string(try String(contentsOfFile: server.path(name), encoding: .utf8)) }
        var settings: JSONValue = [
            "agent_id": .string(Self.agentID), "vm": ["name": "vm-test"], "mbus": .string(server.url.absoluteString),
            "networks": [:], "disks": ["persistent": [:]], "ntp": [],
            "env": ["bosh": ["mbus": ["cert": ["ca": try pem("ca.crt"), "certificate": try pem("\(Self.agentID).crt"), "private_key": try pem("\(Self.agentID).key")]]]],
        ]
        if let blobstore, case .object(var fields) = settings {
            fields["blobstore"] = try JSONValue(encoding: blobstore)
            settings = .object(fields)
        }
        try JSONCoding.encoder.encode(settings).write(to: URL(fileURLWithPath: vcap + "/bosh/settings.json"))
        let agent = AgentProcess(binary: Self.binary, vcap: vcap, log: root + "/agent.log")
        try agent.start()
        defer { agent.stop() }
        try await withRunningClient(configuration(server)) { director in
            let router = try await AgentReplyRouter(nats: director, directorUUID: "d-1")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await router.route() }
                let client = AgentClient(
                    router: router, agentID: Self.agentID, instanceName: "web/0", requestTimeout: .seconds(2),
                    taskPollInterval: .milliseconds(20))
                agent.client = client
                do {
                    try await agent.waitUntilAnswering()
                    try await body(client, director, vcap, agent)
                } catch {
                    router.stop()
                    throw error
                }
                router.stop()
                try await group.waitForAll()
            }
        }
    }

    @Test func answersTheBasicMethods() async throws {
        try await withAgent { client, _, _ in
            let info = try await client.send(.info)
            #expect(info == ["api_version": 1])
            let state = try await client.send(.getState(full: true))
            #expect(state["agent_id"] == .string(Self.agentID))
            #expect(state["job_state"] == "running")
            #expect(state["vitals"]?["mem"]?["kb"] != nil)
            #expect(state["vitals"]?["disk"]?["system"] != nil)
            await #expect {
                _ = try await client.send(.getTask(agentTaskID: "no-such-task"))
            } throws: { error in "\(error)".contains("Task with id no-such-task could not be found") }
        }
    }

    @Test func unknownAndMalformedRequestsGetExceptionsAndTheAgentKeepsRunning() async throws {
        try await withAgent { client, director, _ in
            let replies = try await director.subscribe(to: "director.d-1.\(Self.agentID).raw")
            // An unknown method, as old agents answer it.
            try director.publish(#"{"protocol":3,"method":"frobnicate","arguments":[],"reply_to":"director.d-1.agent-1.raw"}"#, to: "agent.\(Self.agentID)")
            // A request whose method is not a string: answered on its reply_to with an exception.
            try director.publish(#"{"protocol":3,"method":5,"arguments":[],"reply_to":"director.d-1.agent-1.raw"}"#, to: "agent.\(Self.agentID)")
            let answers = try await collect(replies, count: 2).map(\.string)
            #expect(answers.contains(#"{"exception":{"message":"unknown message frobnicate"}}"#), "\(answers)")
            #expect(answers.contains { $0.contains("Invalid request") }, "\(answers)")
            try director.publish("not json at all", to: "agent.\(Self.agentID)")
            let pong = try await client.send(.ping)
            #expect(pong == "pong")
        }
    }

    @Test func uploadBlobVerifiesTheChecksumAndKeepsTheBlobPrivate() async throws {
        try await withAgent { client, _, vcap in
            let payload = Data("rendered templates".utf8)
            let blob = UploadBlob(blobID: "blob-1", checksum: "b6f1a48c2e0ea5d0c5b3c7af7a93e8d3f8e0a6c1", payload: payload.base64EncodedString())
            await #expect {
                _ = try await client.send(.uploadBlob(blob))
            } throws: { error in "\(error)".contains("Checksum mismatch for blob blob-1") }
            let good = UploadBlob(blobID: "blob-1", checksum: sha1(payload), payload: payload.base64EncodedString())
            let blobID = try await client.send(.uploadBlob(good))
            #expect(blobID == "blob-1")
            let path = vcap + "/data/sensitive_blobs/blob-1"
            #expect(FileManager.default.contents(atPath: path) == payload)
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
        }
    }

    @Test func runScriptRunsEveryJobsHookAndReportsFailures() async throws {
        try await withAgent { client, _, vcap in
            let spec: JSONValue = ["deployment": "d", "job": ["name": "web", "templates": [["name": "greeter"], ["name": "checker"], ["name": "silent"]]]]
            try JSONCoding.encoder.encode(spec).write(to: URL(fileURLWithPath: vcap + "/bosh/spec.json"))
            for (job, script) in [("greeter", "echo started $BOSH_TEST_FLAG; exit 0"), ("checker", "echo broken >&2; exit 3")] {
                let bin = vcap + "/jobs/\(job)/bin"
                try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
                try "#!/bin/sh\n\(script)\n".write(toFile: bin + "/pre-start", atomically: true, encoding: .utf8)
                chmod(bin + "/pre-start", 0o755)
            }
            await #expect {
                _ = try await client.send(.runScript(name: "pre-start", env: ["BOSH_TEST_FLAG": "yes"]))
            } throws: { error in
                "\(error)".contains("1 of 2 pre-start scripts failed. Failed Jobs: checker. Successful Jobs: greeter.")
            }
            let greeterLog = try String(contentsOfFile: vcap + "/data/sys/log/greeter/pre-start.stdout.log", encoding: .utf8)
            #expect(greeterLog == "started yes\n")
            let checkerLog = try String(contentsOfFile: vcap + "/data/sys/log/checker/pre-start.stderr.log", encoding: .utf8)
            #expect(checkerLog == "broken\n")
            #expect(try await client.send(.runScript(name: "post-stop", env: [:])) == [:])  // no job has it
        }
    }

    @Test func sendsHeartbeats() async throws {
        try await withAgent { _, director, _ in
            let heartbeats = try await director.subscribe(to: AgentSubjects.heartbeat(agentID: Self.agentID))
            let beats = try await collect(heartbeats, count: 2)
            let heartbeat = try JSONCoding.decoder.decode(Heartbeat.self, from: Data(beats[1].payload.readableBytesView))
            #expect(heartbeat.jobState == "running")
            #expect(heartbeat.vitals?.load.count == 3)
        }
    }
}

func sha1(_ data: Data) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try? process.run()
    input.fileHandleForWriting.write(data)
    try? input.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(40))
}

struct AgentTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension AgentProcessTests {
    /// Writes an applied spec with one job, `worker`, whose bpm.yml runs one process, `sleeper`,
    /// that records its pid, prints `echo` and sleeps; returns the pidfile's path.
    static func applySleeperJob(_ vcap: String, echo: String) throws -> String {
        let spec: JSONValue = ["deployment": "d", "name": "web", "job": ["name": "web", "templates": [["name": "worker"]]]]
        try JSONCoding.encoder.encode(spec).write(to: URL(fileURLWithPath: vcap + "/bosh/spec.json"))
        let config = vcap + "/jobs/worker/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let pidFile = vcap + "/worker.pid"
        try """
            processes:
            - name: sleeper
              executable: /bin/sh
              args: ["-c", "echo $$ > \(pidFile); echo \(echo); exec sleep 1000"]
              env: {GREETING: hello}
            """.write(toFile: config + "/bpm.yml", atomically: true, encoding: .utf8)
        return pidFile
    }

    static func readPID(_ path: String) throws -> pid_t {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = pid_t(text) else { throw AgentTestError("\(path) holds no pid: \(text)") }
        return pid
    }

    /// Polls `get_state` until `job_state` is `wanted` (or the deadline passes).
    func waitForJobState(_ client: AgentClient, _ wanted: String, seconds: Double = 10) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var state: JSONValue = [:]
        while ContinuousClock.now < deadline {
            state = try await client.send(.getState(full: false))
            if state["job_state"]?.stringValue == wanted { return state }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw AgentTestError("job_state never became \(wanted): \(state)")
    }

    @Test func supervisesBPMProcessesRestartsCrashesAndAlerts() async throws {
        try await withAgent { client, director, vcap in
            let pidFile = try Self.applySleeperJob(vcap, echo: "up")
            let alerts = try await director.subscribe(to: AgentSubjects.alert(agentID: Self.agentID))
            let started = try await client.send(.start)
            #expect(started == "started")
            let running = try await waitForJobState(client, "running")
            #expect(running["processes"]?.arrayValue?.first?["name"] == "sleeper")
            // Kill it: the agent notices at once, alerts, and starts it again.
            let firstPID = try Self.readPID(pidFile)
            kill(firstPID, SIGKILL)
            let alert = try JSONCoding.decoder.decode(AgentAlert.self, from: Data(try await collect(alerts, count: 1)[0].payload.readableBytesView))
            #expect(alert.title.hasPrefix("sleeper ("))
            #expect(alert.summary == "worker/sleeper killed by signal 9")
            _ = try await waitForJobState(client, "running")
            let secondPID = try Self.readPID(pidFile)
            #expect(secondPID != firstPID)
            let log = try String(contentsOfFile: vcap + "/data/sys/log/worker/sleeper.stdout.log", encoding: .utf8)
            #expect(log == "up\nup\n")
            let stopped = try await client.send(.stop)
            #expect(stopped == "stopped")
            let state = try await client.send(.getState(full: false))
            #expect(state["job_state"] == "stopped")
            #expect(kill(secondPID, 0) != 0)
        }
    }
}

extension AgentProcessTests {
    @Test func drainFollowsADynamicDrainScriptAndAnnouncesShutdown() async throws {
        try await withAgent { client, director, vcap in
            let spec: JSONValue = ["deployment": "d", "job": ["name": "web", "templates": [["name": "db"]]], "persistent_disk": 1024, "configuration_hash": "a"]
            try JSONCoding.encoder.encode(spec).write(to: URL(fileURLWithPath: vcap + "/bosh/spec.json"))
            let bin = vcap + "/jobs/db/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            let calls = vcap + "/drain-calls"
            // First asks to be asked again (dynamic), then says done.
            try """
                #!/bin/sh
                echo "$* | $BOSH_JOB_STATE -> $BOSH_JOB_NEXT_STATE" >> \(calls)
                if [ "$1" = job_check_status ]; then echo 0; else echo -1; fi
                """.write(toFile: bin + "/drain", atomically: true, encoding: .utf8)
            chmod(bin + "/drain", 0o755)
            let next = ApplySpec(
                deployment: "d", job: .init(name: "web", templates: [.init(name: "db", version: "1", sha1: "s", blobstoreID: "b")]),
                index: 0, name: "web", id: "uuid", az: nil, networks: [:],
                packages: ["pg": .init(name: "pg", version: "2", sha1: "new", blobstoreID: "pb")], configurationHash: "b",
                persistentDisk: 1024, renderedTemplatesArchive: nil)
            let result = try await client.send(.drain(.update, next))
            #expect(result == 0)
            let log = try String(contentsOfFile: calls, encoding: .utf8)
            #expect(log.hasPrefix("job_changed hash_changed pg | {\"persistent_disk\":1024}"), "\(log)")
            #expect(log.contains("\njob_check_status hash_unchanged | "), "\(log)")

            let shutdowns = try await director.subscribe(to: AgentSubjects.shutdown(agentID: Self.agentID))
            try "#!/bin/sh\necho not-a-number\n".write(toFile: bin + "/drain", atomically: true, encoding: .utf8)
            chmod(bin + "/drain", 0o755)
            await #expect {
                _ = try await client.send(.drain(.shutdown, nil))
            } throws: { error in "\(error)".contains("db drain: Script did not return a signed integer") }
            #expect(try await collect(shutdowns, count: 1)[0].string == "null")
        }
    }
}

extension AgentProcessTests {
    @Test func supervisesMonitStyleDaemonsThroughTheirPidfile() async throws {
        try await withAgent { client, director, vcap in
            let spec: JSONValue = ["deployment": "d", "job": ["name": "web", "templates": [["name": "legacy"]]]]
            try JSONCoding.encoder.encode(spec).write(to: URL(fileURLWithPath: vcap + "/bosh/spec.json"))
            let job = vcap + "/jobs/legacy"
            try FileManager.default.createDirectory(atPath: job + "/bin", withIntermediateDirectories: true)
            let pidfile = vcap + "/data/sys/run/legacy.pid"
            try """
                check process legacyd
                  with pidfile \(pidfile)
                  start program "\(job)/bin/ctl start"
                  stop program "\(job)/bin/ctl stop"
                  group vcap
                """.write(toFile: job + "/monit", atomically: true, encoding: .utf8)
            // A classic ctl script: backgrounds the daemon, which writes its pid, then returns.
            try """
                #!/bin/sh
                case $1 in
                start) /bin/sh -c 'echo $$ > \(pidfile); exec sleep 1000' >/dev/null 2>&1 & ;;
                stop) kill $(cat \(pidfile)) ;;
                esac
                """.write(toFile: job + "/bin/ctl", atomically: true, encoding: .utf8)
            chmod(job + "/bin/ctl", 0o755)
            let alerts = try await director.subscribe(to: AgentSubjects.alert(agentID: Self.agentID))
            let started = try await client.send(.start)
            #expect(started == "started")
            _ = try await waitForJobState(client, "running")
            let first = pid_t(try String(contentsOfFile: pidfile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            kill(first, SIGKILL)
            let alert = try JSONCoding.decoder.decode(AgentAlert.self, from: Data(try await collect(alerts, count: 1)[0].payload.readableBytesView))
            #expect(alert.summary == "legacy/legacyd pid \(first) failed")
            // Restarted through the start program: a new daemon with a new pid.
            var second = first
            let deadline = ContinuousClock.now + .seconds(10)
            while second == first && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                second = pid_t((try? String(contentsOfFile: pidfile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? first
            }
            #expect(second != first)
            _ = try await waitForJobState(client, "running")
            let stopped = try await client.send(.stop)
            #expect(stopped == "stopped")
            #expect(kill(second, 0) != 0 || isZombie(second))
            #expect(kill(first, 0) != 0 || isZombie(first))
        }
    }
}

func isZombie(_ pid: pid_t) -> Bool {
    ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z ")
}
