import AgentProtocol
import BosunCore
import Foundation

/// What one drain script's output means (reference §2.3), without I/O.
enum DrainOutcome: Equatable {
    /// Wait this many seconds, then the job is drained.
    case waitThenDone(Int)
    /// Wait this many seconds, then ask again with `job_check_status` (dynamic drain).
    case waitThenAskAgain(Int)

    struct Invalid: Error, CustomStringConvertible, Equatable {
        var description: String
    }

    static func parse(_ output: String) throws(Invalid) -> DrainOutcome {
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = Int(text) else {
            throw Invalid(description: "Script did not return a signed integer, but returned '\(text.prefix(80))'")
        }
        return value >= 0 ? .waitThenDone(value) : .waitThenAskAgain(-value)
    }
}

/// `drain(type, [spec])`: stops restarting processes, tells the health monitor on shutdown, then runs
/// every job's `bin/drain` at once — `update` with `job_changed`/`hash_changed` and the changed
/// packages, `shutdown` with `job_shutdown` — following dynamic drains until each says done.
/// Answers `0`; cancelling the task stops the scripts.
struct DrainAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let type = try arguments.string(0, "drain_type")
        guard type == "update" || type == "shutdown" else {
            throw ActionError("Unsupported drain type '\(type)'")
        }
        await agent.supervisor.unmonitor()
        if type == "shutdown" {
            try? agent.nats.publish("null", to: AgentSubjects.shutdown(agentID: agent.settings.agentID))
        }
        let current = agent.appliedSpec()
        let next = arguments.count > 1 ? arguments[1] : .null
        let firstArguments = type == "shutdown"
            ? ["job_shutdown", "hash_unchanged"] : updateArguments(current: current, next: next)
        let environment = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "BOSH_JOB_STATE": stateJSON(current), "BOSH_JOB_NEXT_STATE": stateJSON(type == "shutdown" ? current : next),
        ]
        let jobs = agent.appliedJobNames().filter { FileManager.default.isExecutableFile(atPath: agent.paths.job($0) + "/bin/drain") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for job in jobs {
                group.addTask {
                    try await drain(job, firstArguments: firstArguments, environment: environment, agent: agent)
                }
            }
            try await group.waitForAll()
        }
        return 0
    }

    private func drain(_ job: String, firstArguments: [String], environment: [String: String], agent: AgentContext) async throws {
        var arguments = firstArguments
        let log = agent.paths.jobLog(job)
        try? Filesystem.makeDirectory(log, mode: 0o750)
        while true {
            try Task.checkCancellation()
            let output = try await ProcessRunner.capture(
                agent.paths.job(job) + "/bin/drain", arguments, environment: environment, stderrFile: log + "/drain.stderr.log")
            let outcome: DrainOutcome
            do {
                outcome = try DrainOutcome.parse(output)
            } catch {
                throw ActionError("\(job) drain: \(error.description)")
            }
            switch outcome {
            case .waitThenDone(let seconds):
                try await Task.sleep(for: .seconds(seconds))
                return
            case .waitThenAskAgain(let seconds):
                try await Task.sleep(for: .seconds(seconds))
                arguments = ["job_check_status", "hash_unchanged"]
            }
        }
    }

    /// `job_changed`/`job_new`, `hash_changed`/`hash_unchanged`/`hash_new`, then changed packages.
    private func updateArguments(current: JSONValue, next: JSONValue) -> [String] {
        let hadJobs = current["job"]?["templates"]?.arrayValue?.isEmpty == false
        let currentHash = current["configuration_hash"]?.stringValue
        let nextHash = next["configuration_hash"]?.stringValue
        let hash = currentHash == nil ? "hash_new" : (currentHash == nextHash ? "hash_unchanged" : "hash_changed")
        var changed: [String] = []
        if case .object(let packages)? = next["packages"] {
            for (name, package) in packages.sorted(by: { $0.key < $1.key })
            where current["packages"]?[name]?["sha1"] != package["sha1"] {
                changed.append(name)
            }
        }
        return [hadJobs ? "job_changed" : "job_new", hash] + changed
    }

    private func stateJSON(_ spec: JSONValue) -> String {
        let size: JSONValue = { if case .int(let s)? = spec["persistent_disk"] { return .int(s) } else { return 0 } }()
        let data = (try? JSONCoding.encoder.encode(JSONValue.object(["persistent_disk": size]))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
