import BosunCore
import Foundation
import TestSupport
import Testing

@testable import Director

/// A web server on loopback for a test (Python's http.server), serving one directory. Spawned and
/// reaped here directly: Foundation's Process can miss the exit of a child another helper reaped.
final class StaticWebServer: Sendable {
    let url: String
    private let pid: pid_t

    init(serving directory: String) async throws {
        let port = try PostgresServerProcess.freePort()
        let arguments = ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, String(port)]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot start python3 http.server"])
        }
        self.pid = pid
        url = "http://127.0.0.1:\(port)"
        for _ in 0..<100 {
            let probe = try await BosunBinary.runProgram("/usr/bin/curl", ["-s", "-o", "/dev/null", url + "/"], in: URL(fileURLWithPath: directory))
            if probe.status == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the web server on port \(port) did not start"])
    }

    /// SIGKILL: the child inherits the test runner's signal mask, in which SIGTERM may be blocked.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

extension DirectorCommandsTests {
    @Test("upload-release and upload-stemcell with a URL: the director downloads, checks --sha1, stores; a wrong digest or a missing file stores nothing")
    func remoteUploads() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            let www = scratch.url.path + "/www"
            try FileManager.default.createDirectory(atPath: www, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.fixtureRelease, toPath: www + "/dummy.tgz")
            let build = try await BosunBinary.runProgram(BuiltProduct.path("bosun-local-cpi"), ["build-stemcell", www, "7"], in: scratch.url)
            #expect(build.status == 0, "\(build.stderr)")
            let stemcell = try #require(try FileManager.default.contentsOfDirectory(atPath: www).first { $0.hasPrefix("bosun-local-stemcell") })
            let server = try await StaticWebServer(serving: www)
            defer { server.stop() }
            let sha1 = try await BosunBinary.runProgram("/usr/bin/sha1sum", [www + "/dummy.tgz"], in: scratch.url).stdout.prefix(40)

            // A wrong digest: the task fails naming both digests; nothing is stored or left behind.
            let wrong = try await Self.bosun(
                ["-n", "upload-release", server.url + "/dummy.tgz", "--sha1", String(repeating: "0", count: 40)], director, scratch)
            #expect(wrong.status == 1)
            #expect(wrong.stdout.contains("expected 0000000000") && wrong.stdout.contains(String(sha1)), "\(wrong.stdout)")
            #expect(try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch)).isEmpty)
            let missing = try await Self.bosun(["-n", "upload-release", server.url + "/nothing.tgz"], director, scratch)
            #expect(missing.status == 1 && missing.stdout.contains("HTTP 404"), "\(missing.stdout)")

            let upload = try await Self.bosun(["-n", "upload-release", server.url + "/dummy.tgz", "--sha1", String(sha1)], director, scratch)
            #expect(upload.status == 0, "\(upload.stdout)\n\(upload.stderr)")
            #expect(upload.stdout.contains("Downloading remote release"), "\(upload.stdout)")
            let releases = try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch))
            #expect(releases.map { $0["version"] } == ["0+dev.1"])

            let stemcellUpload = try await Self.bosun(["-n", "upload-stemcell", server.url + "/" + stemcell], director, scratch)
            #expect(stemcellUpload.status == 0, "\(stemcellUpload.stdout)")
            let stemcells = try Self.jsonRows(try await Self.bosun(["stemcells", "--json"], director, scratch))
            #expect(stemcells.map { $0["version"] } == ["7"])

            // A location that is not http(s) is refused before any task.
            let local = try await BosunBinary.runProgram(
                "/usr/bin/curl",
                [
                    "-s", "--cacert", try scratch.write("ca.crt", director.caPEM), "-u", "admin:\(director.adminPassword)",
                    "-H", "Content-Type: application/json", "-d", #"{"location":"file:///etc/passwd"}"#, director.url + "/releases",
                ], in: scratch.url)
            #expect(local.stdout.contains("is not an http(s) URL"), "\(local.stdout)")
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: director.configuration.uploadsDirectory)) ?? []
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }
}
