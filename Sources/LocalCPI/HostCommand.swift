import CPI
import Foundation
import Subprocess
import SystemPackage

/// Runs host tools (`ip`, `runc`, `losetup`, `nsenter`, `mkfs.ext4`) and turns failures into CPI
/// errors that quote the command and its stderr.
enum HostCommand {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: String
        var stderr: String
        var description: String { "\(command) failed (\(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    /// Runs and returns stdout; throws `Failure` on a non-zero exit.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdoutFile: String? = nil) async throws -> String {
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit)
        if let stdoutFile {
            // A detached container inherits these descriptors: they must be a file, never our pipes.
            let descriptor = try FileDescriptor.open(
                FilePath(stdoutFile), .writeOnly, options: [.append, .create], permissions: [.ownerReadWrite])
            let result = try await Subprocess.run(
                configuration, input: .none, output: .fileDescriptor(descriptor, closeAfterSpawningProcess: true),
                error: .combinedWithOutput)
            guard case .exited(0) = result.terminationStatus else {
                let log = (try? String(contentsOfFile: stdoutFile, encoding: .utf8)) ?? ""
                throw Failure(
                    command: ([executable] + arguments).joined(separator: " "), status: "\(result.terminationStatus)",
                    stderr: String(log.suffix(2000)))
            }
            return ""
        }
        let result = try await Subprocess.run(
            configuration, input: .none, output: .string(limit: 4 * 1024 * 1024), error: .string(limit: 1024 * 1024))
        guard case .exited(0) = result.terminationStatus else {
            throw Failure(
                command: ([executable] + arguments).joined(separator: " "), status: "\(result.terminationStatus)",
                stderr: result.standardError)
        }
        return result.standardOutput
    }

    /// Runs, mapping any failure to a CPI error of the given kind.
    @discardableResult
    static func cpi(_ kind: CPIError.Kind, _ executable: String, _ arguments: [String], stdoutFile: String? = nil)
        async throws(CPIError) -> String
    {
        do {
            return try await run(executable, arguments, stdoutFile: stdoutFile)
        } catch {
            throw CPIError(kind, "\(error)")
        }
    }

    /// Runs and ignores failure (cleanup of things that may already be gone).
    static func bestEffort(_ executable: String, _ arguments: [String]) async {
        _ = try? await run(executable, arguments)
    }
}
