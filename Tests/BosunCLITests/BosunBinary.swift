import Foundation
import TestSupport

/// Runs the built `bosun` executable, as an operator would.
struct BosunBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable sits next to the test bundle in the build products folder.
    static let url = URL(fileURLWithPath: BuiltProduct.path("bosun"))

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL) throws -> Result {
        try runProgram(url.path, arguments, environment: environment, in: directory)
    }

    /// Any program, with the same output capture.
    static func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = [:], in directory: URL) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSH_") && !$0.key.hasPrefix("BOSUN_") }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes while the process runs so neither fills up.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A scratch folder removed when the test ends.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    func read(_ name: String) throws -> String {
        try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path)
    }

    /// `BOSUN_TEST_KEEP_SCRATCH=1` keeps it (director logs, task debug logs) for a post-mortem.
    deinit {
        if ProcessInfo.processInfo.environment["BOSUN_TEST_KEEP_SCRATCH"] == nil { try? FileManager.default.removeItem(at: url) }
    }
}

extension BosunBinary {
    /// As `run`, without blocking a Swift concurrency thread (the director under test may be in this
    /// process and needs them).
    static func runAsync(_ arguments: [String], environment: [String: String] = [:], in directory: URL) async throws -> Result {
        try await runProgram(url.path, arguments, environment: environment, in: directory)
    }

    static func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = [:], in directory: URL) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try runProgram(path, arguments, environment: environment, in: directory) })
            }
        }
    }
}
