import BosunCore
import Foundation
import TestSupport
import Testing

@testable import Agent

struct LogRotationLogicTests {
    @Test func sizesReadAsLogrotateReadsThem() {
        #expect(LogRotation.bytes("50M") == 50 * 1024 * 1024)
        #expect(LogRotation.bytes("100k") == 100 * 1024)
        #expect(LogRotation.bytes("2G") == 2 * 1024 * 1024 * 1024)
        #expect(LogRotation.bytes("4096") == 4096)
        #expect(LogRotation.bytes("") == nil)
        #expect(LogRotation.bytes("fifty") == nil)
        #expect(LogRotation.bytes("-5M") == nil)
        #expect(LogRotation.maxSize(spec: ["properties": ["logging": ["max_log_file_size": "1k"]]]) == 1024)
        #expect(LogRotation.maxSize(spec: ["properties": ["logging": ["max_log_file_size": "huge"]]]) == LogRotation.defaultMaxSize)
        #expect(LogRotation.maxSize(spec: [:]) == LogRotation.defaultMaxSize)
    }

    @Test func aFullSetOfGenerationsDropsTheOldestAndShiftsTheRestUp() {
        let full = LogRotation.shifts(of: "/l/a.log", existing: Set(1...7))
        #expect(full.remove == "/l/a.log.7.gz")
        #expect(full.renames.map(\.from) == (1...6).reversed().map { "/l/a.log.\($0).gz" })
        #expect(full.renames.map(\.to) == (2...7).reversed().map { "/l/a.log.\($0).gz" })

        let gap = LogRotation.shifts(of: "/l/a.log", existing: [1, 3])
        #expect(gap.remove == nil)
        #expect(gap.renames.map(\.to) == ["/l/a.log.4.gz", "/l/a.log.2.gz"])
        #expect(LogRotation.shifts(of: "/l/a.log", existing: []).renames.isEmpty)
    }
}

extension AgentProcessTests {
    @Test func oversizedLogsAreRotatedWhileTheirWriterKeepsWriting() async throws {
        try await withAgent { _, _, vcap in
            let spec: JSONValue = ["deployment": "d", "name": "web", "properties": ["logging": ["max_log_file_size": "2k"]]]
            try JSONCoding.encoder.encode(spec).write(to: URL(fileURLWithPath: vcap + "/bosh/spec.json"))
            let directory = vcap + "/data/sys/log/web"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let log = directory + "/web.stdout.log"
            try "small\n".write(toFile: directory + "/quiet.log", atomically: true, encoding: .utf8)

            // A writer that holds its descriptor, as a job process does.
            let writer = open(log, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            #expect(writer >= 0)
            defer { close(writer) }
            let first = (0..<300).map { "first line \($0)\n" }.joined()
            _ = first.withCString { write(writer, $0, strlen($0)) }
            try await waitUntilExists(log + ".1.gz")
            #expect(String(decoding: try gunzip(log + ".1.gz"), as: UTF8.self) == first)

            // The writer goes on at the start of the emptied file; the next rotation shifts generations.
            let second = (0..<300).map { "second line \($0)\n" }.joined()
            _ = second.withCString { write(writer, $0, strlen($0)) }
            try await waitUntilExists(log + ".2.gz")
            #expect(String(decoding: try gunzip(log + ".2.gz"), as: UTF8.self) == first)
            #expect(String(decoding: try gunzip(log + ".1.gz"), as: UTF8.self) == second)
            #expect(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int ?? -1 < 2048)
            #expect(!FileManager.default.fileExists(atPath: directory + "/quiet.log.1.gz"))
        }
    }

    /// Waits for a generation to be complete: its `.gz` there and gzip's input gone.
    private func waitUntilExists(_ path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        let first = String(path.dropLast(".2.gz".count)) + ".1"
        while !FileManager.default.fileExists(atPath: path) || FileManager.default.fileExists(atPath: first)
            || !FileManager.default.fileExists(atPath: first + ".gz")
        {
            guard ContinuousClock.now < deadline else { throw AgentTestError("\(path) never appeared") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
