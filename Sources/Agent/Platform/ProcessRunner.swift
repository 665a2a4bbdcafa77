import Foundation
import Subprocess
import SystemPackage

/// Runs helper programs and hook scripts.
enum ProcessRunner {
    /// Runs with output appended to files; returns the exit status (-1 when it could not start).
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], stdoutFile: String, stderrFile: String,
        workingDirectory: String? = nil, cancelGrace: Duration? = nil
    ) async -> Int32 {
        do {
            let out = try FileDescriptor.open(FilePath(stdoutFile), .writeOnly, options: [.append, .create], permissions: [.ownerReadWrite, .groupRead])
            let err = try FileDescriptor.open(FilePath(stderrFile), .writeOnly, options: [.append, .create], permissions: [.ownerReadWrite, .groupRead])
            var variables: [Environment.Key: String] = [:]
            for (key, value) in environment { variables[Environment.Key(stringLiteral: key)] = value }
            // Cancelled with a grace: SIGTERM to the program's whole process group, SIGKILL after it.
            var options = PlatformOptions()
            if let cancelGrace {
                options.createSession = true
                options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: cancelGrace)]
            }
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), environment: .custom(variables),
                workingDirectory: workingDirectory.map { FilePath($0) }, platformOptions: options,
                input: .none, output: .fileDescriptor(out, closeAfterSpawningProcess: true),
                error: .fileDescriptor(err, closeAfterSpawningProcess: true))
            if case .exited(let code) = result.terminationStatus { return code }
            return -1
        } catch {
            return -1
        }
    }

    /// Runs and returns the exit status (-1 when it could not start).
    static func status(_ executable: String, _ arguments: [String]) async -> Int32 {
        guard let result = try? await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(arguments), output: .discarded, error: .discarded),
            case .exited(let code) = result.terminationStatus
        else { return -1 }
        return code
    }

    /// Runs and returns trimmed standard output, or nil when it failed.
    static func output(_ executable: String, _ arguments: [String]) async -> String? {
        guard let result = try? await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(arguments), output: .string(limit: 65536)),
            case .exited(0) = result.terminationStatus
        else { return nil }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs with an environment, returns standard output; stderr goes to a file. Throws on a
    /// non-zero exit. Cancelling the caller terminates the program.
    static func capture(_ executable: String, _ arguments: [String], environment: [String: String], stderrFile: String) async throws
        -> String
    {
        var variables: [Environment.Key: String] = [:]
        for (key, value) in environment { variables[Environment.Key(stringLiteral: key)] = value }
        let err = try FileDescriptor.open(FilePath(stderrFile), .writeOnly, options: [.append, .create], permissions: [.ownerReadWrite, .groupRead])
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), environment: .custom(variables),
            output: .string(limit: 65536), error: .fileDescriptor(err, closeAfterSpawningProcess: true))
        guard case .exited(0) = result.terminationStatus else {
            throw ProcessFailure(description: "\(executable) \(result.terminationStatus)")
        }
        return result.standardOutput
    }

    /// Runs a helper that must succeed; a failure carries the end of what it wrote to stderr.
    static func checked(_ executable: String, _ arguments: [String]) async throws {
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), output: .discarded, error: .string(limit: 65536))
        guard case .exited(0) = result.terminationStatus else {
            let message = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ProcessFailure(description: "\(executable) \(result.terminationStatus): \(message.suffix(1000))")
        }
    }

    /// The last `count` lines of a text file (for error messages about a script's output).
    static func tail(of path: String, lines count: Int) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs and ignores the outcome.
    static func quiet(_ executable: String, _ arguments: [String]) async {
        _ = try? await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(arguments), output: .discarded)
    }
}

/// SHA-1 of blobs, as BOSH digests them.
enum SHA1 {
    static func hex(_ data: Data) -> String {
        Insecure.SHA1.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

import Crypto
