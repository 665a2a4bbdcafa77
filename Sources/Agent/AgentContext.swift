import AgentProtocol
import BosunCore
import Foundation
import Logging
import NATS
import NIOCore

/// What every action may use: the settings, the layout, the task manager and the bus.
final class AgentContext: Sendable {
    let settings: AgentSettings
    let paths: AgentPaths
    let tasks: AgentTaskManager
    let nats: NATSClient
    let supervisor: Supervisor
    /// Yields once a `shutdown` request has been answered; the agent service then stops the jobs and ends.
    let shutdownRequests: AsyncStream<Void>
    private let shutdownContinuation: AsyncStream<Void>.Continuation

    let logger: Logger

    init(settings: AgentSettings, paths: AgentPaths, nats: NATSClient, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.paths = paths
        self.nats = nats
        self.tasks = AgentTaskManager(persistenceFile: paths.bosh + "/tasks.json")
        (shutdownRequests, shutdownContinuation) = AsyncStream.makeStream(of: Void.self)
        let agentID = settings.agentID
        let address = settings.networks.values.compactMap(\.ip).first ?? ""
        self.supervisor = Supervisor(paths: paths) { job, process, description in
            // BOSH's alert shape: "<service> (<ips>) - <event> - <action>".
            let alert = AgentAlert(
                id: UUID().uuidString.lowercased(), severity: .alert, title: "\(process) (\(address)) - pid failed - restart",
                summary: "\(job)/\(process) \(description)", createdAt: Int(Date().timeIntervalSince1970))
            if let data = try? JSONCoding.encoder.encode(alert) {
                try? nats.publish(ByteBuffer(bytes: data), to: AgentSubjects.alert(agentID: agentID))
            }
        }
    }

    func requestShutdown() {
        shutdownContinuation.yield()
    }

    /// Restarts the agent (same pid, new image) a second after the current task's result is saved,
    /// as BOSH's agent does when `update_settings` changes its NATS or blobstore settings. Jobs keep
    /// running and are taken over.
    func restartSoon(reason: String) {
        let logger = self.logger
        let nats = self.nats
        Task.detached {
            try? await Task.sleep(for: .seconds(1))
            logger.info("Restarting the agent", metadata: ["agent.reason": "\(reason)"])
            try? await nats.flush()
            let error = SelfExec.restart()
            logger.critical("Cannot restart the agent", metadata: ["agent.errno": "\(error)"])
            exit(75)
        }
    }

    /// The last applied spec (`/var/vcap/bosh/spec.json`), or an empty object.
    func appliedSpec() -> JSONValue {
        guard let data = FileManager.default.contents(atPath: paths.spec),
            let spec = try? JSONCoding.decoder.decode(JSONValue.self, from: data)
        else { return [:] }
        return spec
    }

    /// The jobs of `spec` (read from disk when not given).
    func appliedJobNames(in spec: JSONValue? = nil) -> [String] {
        guard case .array(let templates)? = (spec ?? appliedSpec())["job"]?["templates"] else { return [] }
        return templates.compactMap { $0["name"]?.stringValue }
    }

    /// Applied jobs whose rendered files are not there: after a reboot with `job_dir.tmpfs` the
    /// tmpfs is empty while `spec.json` (on disk) still lists the jobs.
    func jobsWithMissingTemplates(_ jobs: [String]? = nil) -> [String] {
        (jobs ?? appliedJobNames()).filter { job in
            var isDirectory: ObjCBool = false
            return !FileManager.default.fileExists(atPath: paths.job(job), isDirectory: &isDirectory) || !isDirectory.boolValue
        }
    }

    /// `running`, `starting`, `failing` or `stopped` from the supervisor (reference §2.4), or
    /// `templates_missing`, with each process's state.
    /// `spec`: the applied spec when the caller has read it already (one read of `spec.json`).
    func stateSnapshot(spec: JSONValue? = nil) async -> (jobState: String, processes: [(name: String, state: String, uptime: Double)]) {
        let jobs = appliedJobNames(in: spec)
        return await supervisor.snapshot(templatesMissing: !jobsWithMissingTemplates(jobs).isEmpty, jobsApplied: !jobs.isEmpty)
    }

    /// Loads the applied jobs' processes and starts them, unless templates are missing.
    func startJobs() async throws {
        let missing = jobsWithMissingTemplates()
        guard missing.isEmpty else {
            throw ActionError(
                "Cannot start: the rendered templates of \(missing.joined(separator: ", ")) are missing "
                    + "(a tmpfs job directory after a reboot); apply them again, then start")
        }
        do {
            try await supervisor.load(jobs: appliedJobNames())
        } catch {
            throw ActionError("Starting jobs: \(error)")
        }
        // Processes still running from before an agent restart are taken over, not doubled.
        await supervisor.adoptRunningProcesses()
        await supervisor.startAll()
        unlink(paths.stoppedMarker)
    }

    /// At agent start (a VM boot), jobs come back as monit brings them back on a BOSH VM: when
    /// jobs are applied and the last word was not `stop`.
    /// After a reboot the persistent disk is attached but not mounted: mount it at the store
    /// again before any job starts, so nothing writes to the ephemeral `/var/vcap/store`. Only the
    /// one hinted disk whose device is there (a detached old disk's node is gone).
    func remountPersistentDiskAfterBoot(logger: Logger) async {
        let present = PersistentDisks.hints(paths).keys.sorted().filter { cid in
            (try? PersistentDisks.device(for: cid, paths)).map { FileManager.default.fileExists(atPath: $0) } ?? false
        }
        guard present.count == 1, let cid = present.first, let device = try? PersistentDisks.device(for: cid, paths),
            PersistentDisks.mountpoint(of: device) == nil, !Filesystem.isMountpoint(paths.store)
        else { return }
        do {
            try await PersistentDisks.mount(device, at: paths.store)
            logger.info("Mounted the persistent disk again after boot", metadata: ["agent.disk": "\(cid)"])
        } catch {
            logger.warning("Cannot mount the persistent disk after boot", metadata: ["agent.disk": "\(cid)", "agent.reason": "\(error)"])
        }
    }

    func startJobsAfterBoot(logger: Logger) async {
        guard !appliedJobNames().isEmpty, !FileManager.default.fileExists(atPath: paths.stoppedMarker) else { return }
        do {
            try await startJobs()
            logger.info("Started the applied jobs after boot")
        } catch {
            logger.warning("Not starting jobs after boot", metadata: ["agent.reason": "\(error)"])
        }
    }
}
