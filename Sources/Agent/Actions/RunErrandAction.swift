import AgentProtocol
import BosunCore
import Foundation

/// `run_errand([job])`: runs the errand job's `bin/run` (the named job, else the first applied job
/// that has one) and answers `{"stdout", "stderr", "exit_code"}`. Output also goes to
/// `sys/log/<job>/errand.{stdout,stderr}.log`. `cancel_task` sends SIGTERM to the errand's process
/// group and SIGKILL 10 s later.
struct RunErrandAction: AgentAction {
    var isAsynchronous: Bool { true }
    /// Each stream in the reply keeps its last 256 KiB, so both fit a 1 MiB NATS reply even after
    /// JSON escaping; the log files keep everything.
    static let outputLimit = 256 << 10

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let named = arguments.first?.stringValue
        let candidates = named.map { [$0] } ?? agent.appliedJobNames()
        guard let job = candidates.first(where: { FileManager.default.isExecutableFile(atPath: agent.paths.job($0) + "/bin/run") }) else {
            throw ActionError(named.map { "Errand job \($0) has no bin/run" } ?? "No applied job has a bin/run errand script")
        }
        try PackageInstaller.checkName(job, kind: "job")
        let logDirectory = agent.paths.jobLog(job)
        try Filesystem.makeDirectory(logDirectory, mode: 0o770)
        let stdout = logDirectory + "/errand.stdout.log", stderr = logDirectory + "/errand.stderr.log"
        for file in [stdout, stderr] { unlink(file) }
        var environment = ProcessInfo.processInfo.environment
        environment["BOSH_JOB_NAME"] = job
        let status = await ProcessRunner.run(
            agent.paths.job(job) + "/bin/run", [], environment: environment, stdoutFile: stdout, stderrFile: stderr,
            workingDirectory: agent.paths.job(job), cancelGrace: .seconds(10))
        try Task.checkCancellation()
        return ["stdout": .string(Self.tail(of: stdout)), "stderr": .string(Self.tail(of: stderr)), "exit_code": .int(Int(status))]
    }

    static func tail(of path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(outputLimit) ? size - UInt64(outputLimit) : 0)
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }
}
