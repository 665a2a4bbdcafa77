import BosunCore
import Foundation
import Testing

@testable import CPI

/// ExternalCPI against real executables: small script CPIs that answer as a CPI would (or
/// misbehave), and Bosun's own `bosun-local-cpi`.
@Suite struct ExternalCPITests {
    /// Writes an executable script and returns its path.
    func script(_ body: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cpi-\(UUID().uuidString).sh").path
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func sendsTheRequestAndReadsTheResult() async throws {
        // Echoes the request back as the result, so the test sees exactly what was sent.
        let path = try script(#"read -r line; printf '{"result":%s,"error":null,"log":"called"}' "$line"; echo "on stderr" >&2"#)
        defer { unlink(path) }
        let logs = LogLines()
        let cpi = ExternalCPI(executable: path, directorUUID: "d-1", properties: ["region": "here"], log: { logs.append($0) })
        let echoed = try await cpi.call("has_vm", ["vm-1"])
        #expect(echoed["method"] == "has_vm")
        #expect(echoed["arguments"] == ["vm-1"])
        #expect(echoed["api_version"] == 2)
        #expect(echoed["context"]?["director_uuid"] == "d-1")
        #expect(echoed["context"]?["region"] == "here")
        #expect(echoed["context"]?["request_id"]?.stringValue?.hasPrefix("cpi-") == true)
        #expect(logs.all.contains("called"))
        #expect(logs.all.contains { $0.contains("on stderr") })
    }

    @Test func mapsErrorTypes() async throws {
        let path = try script(#"cat >/dev/null; echo '{"result":null,"error":{"type":"Bosh::Clouds::VMNotFound","message":"gone","ok_to_retry":false},"log":""}'"#)
        defer { unlink(path) }
        await #expect {
            _ = try await ExternalCPI(executable: path, directorUUID: "d").call("delete_vm", ["x"])
        } throws: { error in
            (error as? CPIError) == CPIError(.vmNotFound, "gone")
        }
        #expect(CPIError(body: .init(type: "InvalidCall", message: "Method is not known, got 'x'", okToRetry: false)).kind == .notImplemented)
        #expect(CPIError(body: .init(type: "Bosh::Clouds::CloudError", message: "Invalid Method: x", okToRetry: false)).kind == .notImplemented)
        #expect(CPIError(body: .init(type: "Custom::Thing", message: "m", okToRetry: true)) == CPIError(.unknown, "m", okToRetry: true))
    }

    @Test func garbageOutputIsAnInvalidResponse() async throws {
        let path = try script("cat >/dev/null; echo 'Segmentation fault'")
        defer { unlink(path) }
        await #expect {
            _ = try await ExternalCPI(executable: path, directorUUID: "d").call("info", [])
        } throws: { error in
            (error as? CPIError)?.kind == .invalidResponse
        }
    }

    @Test func aHungCPIIsKilledAtTheTimeout() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("cpi-pid-\(UUID().uuidString)").path
        let path = try script("echo $$ > \(pidFile); cat >/dev/null; exec sleep 300")
        defer {
            unlink(path)
            unlink(pidFile)
        }
        let start = ContinuousClock.now
        await #expect {
            _ = try await ExternalCPI(executable: path, directorUUID: "d", timeout: .milliseconds(300)).call("create_vm", [])
        } throws: { error in
            (error as? CPIError)?.kind == .timeout
        }
        // Not a speed check: a call that waited for the hung CPI would take its whole 300 s.
        #expect(ContinuousClock.now - start < .seconds(120))
        // The CPI process was killed, not left running.
        let pid = Int((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(pid > 0)
        var stillRunning = true
        for _ in 0..<100 where stillRunning {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            stillRunning = !stat.isEmpty && !stat.contains(") Z ")
            if stillRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(!stillRunning)
    }

    @Test func theEnvironmentIsWiped() async throws {
        setenv("BOSUN_SECRET_FOR_TEST", "leak", 1)
        let path = try script(#"cat >/dev/null; printf '{"result":"%s","error":null,"log":""}' "${BOSUN_SECRET_FOR_TEST:-absent}:$PATH""#)
        defer { unlink(path) }
        let result = try await ExternalCPI(executable: path, directorUUID: "d").call("info", [])
        #expect(result == "absent:/usr/sbin:/usr/bin:/sbin:/bin")
    }
}

final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    func append(_ line: String) { lock.withLock { lines.append(line) } }
}
