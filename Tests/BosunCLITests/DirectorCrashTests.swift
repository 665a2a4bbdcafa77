import BosunCore
import Foundation
import Testing
import TestSupport

/// The real `bosun-director` process, killed with SIGKILL in the middle of a task and started again.
@Suite("director crash", .serialized, .timeLimit(.minutes(2)))
struct DirectorCrashTests {
    /// A `bosun-director` process on a state directory, and how the CLI reaches it.
    /// Whether a process runs (a zombie does not).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    final class DirectorProcess: @unchecked Sendable {
        let state: String
        let port: Int
        private var process: Process?

        init(state: String, port: Int) {
            self.state = state
            self.port = port
        }

        func start() async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltProduct.path("bosun-director"))
            process.arguments = ["--state-dir", state]
            // Its log, kept beside the state directory for when a test fails.
            let log = state + "/../director.log"
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let handle = FileHandle(forWritingAtPath: log)
            handle?.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            process.environment = ProcessInfo.processInfo.environment.merging(["BOSUN_LOG_LEVEL": "debug"]) { $1 }
            try process.run()
            self.process = process
            // Generous: on a loaded CI machine (two cores, several suites compiling in VMs) a
            // first start — CA and certificates generated, migrations run — can take many
            // seconds. A director that exits is reported at once, with the end of its log.
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                if let socket = try? await connectable(), socket { return }
                guard process.isRunning else {
                    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    throw DirectorCrashError("director exited with \(process.terminationStatus) before listening:\n" + text.suffix(2000))
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw DirectorCrashError("director did not listen on port \(port) within 120 s")
        }

        private func connectable() async throws -> Bool {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }

        func kill9() {
            guard let process else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// SIGTERM, as an operator stops it; a director that has not exited 20 s later is a failure
        /// (and is killed, so one stuck shutdown cannot hang the whole test run).
        func stop() {
            guard let process, process.isRunning else { return }
            process.terminate()
            for _ in 0..<400 where process.isRunning { usleep(50_000) }
            if process.isRunning {
                Issue.record("bosun-director did not exit within 20 s of SIGTERM; its log: \(state)/../director.log")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }

        var environment: [String: String] {
            [
                "BOSH_ENVIRONMENT": "127.0.0.1:\(port)", "BOSH_CA_CERT": state + "/certs/director-ca.crt", "BOSH_CLIENT": "admin",
                "BOSH_CLIENT_SECRET": (try? String(contentsOfFile: state + "/admin-password", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "",
                "BOSUN_CONFIG": state + "/../cli-config",
            ]
        }
    }

    struct DirectorCrashError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("SIGKILL during a stemcell upload: after a restart the task is error with the reason, no lock, no upload, no stemcell")
    func killDuringTask() async throws {
        let scratch = try ScratchDirectory()
        let state = scratch.url.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // A CPI that is slow to create stemcells: the real local CPI behind a pause.
        let localCPI = BuiltProduct.path("bosun-local-cpi")
        try scratch.write("local-cpi.yml", "work_dir: \(scratch.url.path)/cpi\n")
        let slowCPI = try scratch.write("slow-cpi", "#!/bin/sh\nsleep 60\nexec \(localCPI) \"$@\"\n")
        chmod(slowCPI, 0o755)
        let port = try PostgresServerProcess.freePort()
        try "port: \(port)\nblobstore_port: \(try PostgresServerProcess.freePort())\nnats: {port: 0}\ncpi: {path: \(slowCPI), config: \(scratch.url.path)/local-cpi.yml}\n"
            .write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        let director = DirectorProcess(state: state, port: port)
        try await director.start()
        defer {
            director.stop()
            _ = try? BosunBinary.runProgram("/usr/bin/pkill", ["-f", slowCPI], in: scratch.url)
        }

        let build = try await BosunBinary.runProgram(localCPI, ["build-stemcell", scratch.url.path, "7"], in: scratch.url)
        #expect(build.status == 0)
        let tarball = scratch.url.path + "/" + (try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).first { $0.hasSuffix(".tgz") } ?? "")
        let environment = director.environment
        let directory = scratch.url
        let upload = Task { try await BosunBinary.runAsync(["-n", "upload-stemcell", tarball], environment: environment, in: directory) }

        // Wait until the task is inside the CPI call, then kill the director outright.
        var running: [JSONValue] = []
        for _ in 0..<200 where running.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            let tasks = try await BosunBinary.runAsync(["tasks", "--json"], environment: environment, in: scratch.url)
            let rows = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(tasks.stdout.utf8)))?["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue
            running = rows?.filter { $0["state"] == "processing" } ?? []
        }
        #expect(running.count == 1)
        try await Task.sleep(for: .milliseconds(300))
        let firstNATS = try #require(Int32((try? String(contentsOfFile: state + "/nats/nats-server.pid", encoding: .utf8)) ?? ""))
        director.kill9()
        _ = try? await BosunBinary.runProgram("/usr/bin/pkill", ["-f", slowCPI], in: scratch.url)
        let interrupted = try await upload.value
        #expect(interrupted.status == 1)

        try await director.start()
        let recent = try await BosunBinary.runAsync(["tasks", "-r", "--json"], environment: environment, in: scratch.url)
        let rows = try JSONCoding.decoder.decode(JSONValue.self, from: Data(recent.stdout.utf8))["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
        #expect(rows.first?["state"] == "error", "\(recent.stdout)")
        #expect(rows.first?["result"] == "Director restarted while the task was running")
        let locks = try await BosunBinary.runAsync(["locks", "--json"], environment: environment, in: scratch.url)
        #expect(locks.stdout.contains("\"Rows\":[]"), "\(locks.stdout)")
        let stemcells = try await BosunBinary.runAsync(["stemcells", "--json"], environment: environment, in: scratch.url)
        #expect(stemcells.stdout.contains("\"Rows\":[]"), "\(stemcells.stdout)")
        var uploads = ["(not checked)"]
        for _ in 0..<50 where !uploads.isEmpty {
            uploads = (try? FileManager.default.contentsOfDirectory(atPath: state + "/uploads")) ?? []
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(uploads.isEmpty, "\(uploads)")
        // The nats-server the killed director left behind was stopped by the new one.
        #expect(!Self.isAlive(firstNATS))
        // And it works again.
        let env = try await BosunBinary.runAsync(["env"], environment: environment, in: scratch.url)
        #expect(env.status == 0)
    }
}
