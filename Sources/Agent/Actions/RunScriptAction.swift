import AgentProtocol
import BosunCore
import Foundation

/// `run_script(name, {env})`: runs `/var/vcap/jobs/<job>/bin/<name>` of every job in the applied
/// spec, all at once, with a minimal environment plus the director's; output goes to
/// `/var/vcap/sys/log/<job>/<name>.stdout.log` and `.stderr.log` (reference §2.2).
struct RunScriptAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let script = try arguments.string(0, "script_name")
        guard !script.contains("/"), !script.isEmpty else { throw ActionError("Invalid script name '\(script)'") }
        var environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin:/var/vcap/bosh/bin"]
        if arguments.count > 1, case .object(let env)? = arguments[1]["env"] {
            for (key, value) in env { if case .string(let text) = value { environment[key] = text } }
        }
        let jobs = agent.appliedJobNames().filter {
            FileManager.default.isExecutableFile(atPath: agent.paths.job($0) + "/bin/" + script)
        }
        let scriptEnvironment = environment
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for job in jobs {
                group.addTask {
                    let log = agent.paths.jobLog(job)
                    try? Filesystem.makeDirectory(log, mode: 0o750)
                    let status = await ProcessRunner.run(
                        agent.paths.job(job) + "/bin/" + script, [], environment: scriptEnvironment,
                        stdoutFile: log + "/\(script).stdout.log", stderrFile: log + "/\(script).stderr.log")
                    return (job, status == 0)
                }
            }
            var results: [(String, Bool)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        let failed = results.filter { !$0.1 }.map(\.0)
        if !failed.isEmpty {
            let succeeded = results.filter(\.1).map(\.0)
            throw ActionError(
                "\(failed.count) of \(results.count) \(script) scripts failed. Failed Jobs: \(failed.joined(separator: ", ")). Successful Jobs: \(succeeded.joined(separator: ", ")).")
        }
        return [:]
    }
}
