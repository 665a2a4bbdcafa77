import CBosunShims
import Foundation

/// Runs and watches the jobs' processes: bpm processes the agent spawns itself, and monit-style
/// processes started by their `start program` and found through their pidfile. An exit is noticed
/// at once — a thread blocked in `waitpid` for our children, in `poll` on a pidfd for daemons —
/// and a tick every 100 ms drives start graces, restart back-off and stop escalation. One owner
/// for all of it: this actor.
actor Supervisor {
    enum Kind: Sendable {
        case bpm(BPMProcess)
        case monit(MonitProcess)
    }

    struct Entry {
        var job: String
        var kind: Kind
        var machine = ProcessStateMachine()
        var pid: pid_t?
        var startedAt: Double?

        var name: String {
            switch kind {
            case .bpm(let process): return process.name
            case .monit(let process): return process.name
            }
        }
    }

    // Shared with the process-handling half of the actor (Supervisor+Processes.swift).
    var entries: [String: Entry] = [:]
    var order: [String] = []
    private(set) var stopped = true
    private var monitoring = true
    let paths: AgentPaths
    let onCrash: @Sendable (_ job: String, _ process: String, _ description: String) -> Void
    private var ticker: Task<Void, Never>?

    init(paths: AgentPaths, onCrash: @escaping @Sendable (String, String, String) -> Void) {
        self.paths = paths
        self.onCrash = onCrash
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Replaces the process set with the processes of `jobs`: `config/bpm.yml` when a job has one,
    /// else its `monit` file, started in `depends on` order.
    func load(jobs: [String]) throws {
        var loaded: [String: Entry] = [:]
        var order: [String] = []
        for job in jobs {
            var kinds: [Kind] = []
            if let text = try? String(contentsOfFile: paths.job(job) + "/config/bpm.yml", encoding: .utf8) {
                kinds = try BPMConfig.parse(text, job: job).map(Kind.bpm)
            } else if let text = try? String(contentsOfFile: paths.job(job) + "/monit", encoding: .utf8) {
                kinds = MonitOrder.sorted(try MonitFile.parse(text, file: job + "/monit")).map(Kind.monit)
            }
            for kind in kinds {
                var entry = Entry(job: job, kind: kind)
                let key = job + "/" + entry.name
                if let existing = entries[key] {
                    entry.machine = existing.machine
                    entry.pid = existing.pid
                    entry.startedAt = existing.startedAt
                }
                loaded[key] = entry
                order.append(key)
            }
        }
        entries = loaded
        self.order = order
    }

    func startAll() {
        stopped = false
        monitoring = true
        let now = Self.now()
        for key in order { perform(entries[key]!.machine.start(now: now), for: key) }
        if ticker == nil {
            ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    await self?.tick()
                }
            }
        }
    }

    /// Stops restarting crashed processes (before drain), as `monit unmonitor` does.
    func unmonitor() {
        monitoring = false
    }

    /// Stops everything in reverse order and waits until all processes are gone.
    func stopAll() async {
        stopped = true
        let now = Self.now()
        for key in order.reversed() { perform(entries[key]!.machine.stop(now: now), for: key) }
        // Most processes exit within milliseconds of their signal: look often at first (an
        // instance's downtime waits on this), then every 50 ms during a long stop grace.
        var looks = 0
        while entries.values.contains(where: { $0.pid != nil }) {
            looks += 1
            try? await Task.sleep(for: .milliseconds(looks < 40 ? 5 : 50))
        }
    }

    /// `templatesMissing`: some applied job's rendered files are gone (a tmpfs job directory after a
    /// reboot); that outranks whatever the processes say. `jobsApplied`: with jobs applied but never
    /// started (or stopped), the state is `stopped` even though no process is loaded.
    func snapshot(templatesMissing: Bool = false, jobsApplied: Bool = false)
        -> (jobState: String, processes: [(name: String, state: String, uptime: Double)])
    {
        let now = Self.now()
        let processes = order.compactMap { key -> (String, String, Double)? in
            guard let entry = entries[key] else { return nil }
            return (entry.name, entry.machine.status, entry.startedAt.map { max(0, now - $0) } ?? 0)
        }
        let jobState = JobState.compute(
            processes: order.compactMap { entries[$0]?.machine }, stopped: stopped && (jobsApplied || !order.isEmpty),
            templatesMissing: templatesMissing)
        return (jobState, processes)
    }

    private func tick() {
        let now = Self.now()
        for key in order {
            if !monitoring, case .crashed = entries[key]!.machine.state { continue }
            perform(entries[key]!.machine.tick(now: now), for: key)
        }
    }

    func perform(_ action: ProcessStateMachine.Action, for key: String) {
        guard let entry = entries[key] else { return }
        switch action {
        case .none: return
        case .spawn: spawn(key)
        case .terminate:
            switch entry.kind {
            case .bpm(let process): if let pid = entry.pid { kill(pid, process.shutdownSignal) }
            case .monit(let process):
                if let stop = process.stopProgram {
                    runDetached(stop, job: entry.job, log: process.name + ".ctl")
                } else if let pid = entry.pid {
                    kill(pid, SIGTERM)
                }
            }
        case .kill: if let pid = entry.pid { kill(pid, SIGKILL) }
        case .alert(let description): onCrash(entry.job, entry.name, description)
        }
    }
}
