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

    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private(set) var stopped = true
    private var monitoring = true
    private let paths: AgentPaths
    private let onCrash: @Sendable (_ job: String, _ process: String, _ description: String) -> Void
    private var ticker: Task<Void, Never>?

    init(paths: AgentPaths, onCrash: @escaping @Sendable (String, String, String) -> Void) {
        self.paths = paths
        self.onCrash = onCrash
    }

    private static func now() -> Double {
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
        while entries.values.contains(where: { $0.pid != nil }) {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// `templatesMissing`: some applied job's rendered files are gone (a tmpfs job directory after a
    /// reboot); that outranks whatever the processes say. `jobsApplied`: with jobs applied but never
    /// started (or stopped), the state is `stopped` even though no process is loaded.
    func snapshot(templatesMissing: Bool = false, jobsApplied: Bool = false)
        -> (jobState: String, processes: [(name: String, state: String, uptime: Int)])
    {
        let now = Self.now()
        let processes = order.compactMap { key -> (String, String, Int)? in
            guard let entry = entries[key] else { return nil }
            return (entry.name, entry.machine.status, entry.startedAt.map { Int(now - $0) } ?? 0)
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

    private func perform(_ action: ProcessStateMachine.Action, for key: String) {
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

    private func environment(for job: String, extra: [String: String] = [:]) -> [String] {
        ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/vcap/data/\(job)", "LANG=C.UTF-8"] + extra.map { "\($0.key)=\($0.value)" }
    }

    /// Runs a monit `start`/`stop program` line through the shell, without waiting.
    private func runDetached(_ command: String, job: String, log: String) {
        let logs = paths.jobLog(job)
        try? Filesystem.makeDirectory(logs, mode: 0o750)
        guard let pid = ProcessSpawner.spawn(
            "/bin/sh", ["-c", command], environment: environment(for: job), workdir: paths.job(job),
            stdout: logs + "/\(log).stdout.log", stderr: logs + "/\(log).stderr.log")
        else { return }
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    private func spawn(_ key: String) {
        guard let entry = entries[key] else { return }
        switch entry.kind {
        case .bpm(let process): spawnBPM(key, process)
        case .monit(let process): spawnMonit(key, process)
        }
    }

    /// Runs the start program; once it returns, the pidfile names the daemon, watched by pidfd.
    private func spawnMonit(_ key: String, _ process: MonitProcess) {
        guard let job = entries[key]?.job, let start = process.startProgram, let pidfile = process.pidfile else {
            failToStart(key, "has no start program or pidfile")
            return
        }
        let logs = paths.jobLog(job)
        try? Filesystem.makeDirectory(logs, mode: 0o750)
        // A stale pidfile would name the previous (dead, maybe zombie) daemon: only a fresh one counts.
        unlink(pidfile)
        guard let starter = ProcessSpawner.spawn(
            "/bin/sh", ["-c", start], environment: environment(for: job), workdir: paths.job(job),
            stdout: logs + "/\(process.name).ctl.stdout.log", stderr: logs + "/\(process.name).ctl.stderr.log")
        else {
            failToStart(key, "start program could not run")
            return
        }
        let timeout = process.startTimeoutSeconds
        Thread.detachNewThread { [weak self] in
            var status: Int32 = 0
            while waitpid(starter, &status, 0) < 0 && errno == EINTR {}
            // The daemon may write its pidfile a moment after the start program returns.
            var daemon: pid_t = 0
            for _ in 0..<(timeout * 20) {
                if let text = try? String(contentsOfFile: pidfile, encoding: .utf8),
                    let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), ProcessSpawner.isAlive(pid)
                {
                    daemon = pid
                    break
                }
                usleep(50_000)
            }
            guard daemon > 0 else {
                Task { await self?.failToStart(key, "wrote no live pid to \(pidfile)") }
                return
            }
            let descriptor = bosun_pidfd_open(daemon)
            // Record the pid before waiting, so its exit is matched to it.
            let recorded = DispatchSemaphore(value: 0)
            Task {
                await self?.watching(key: key, pid: daemon)
                recorded.signal()
            }
            recorded.wait()
            if descriptor >= 0 {
                _ = bosun_pidfd_wait(descriptor, -1)
                close(descriptor)
            }
            Task { await self?.exited(key: key, pid: daemon, description: "pid \(daemon) failed") }
        }
    }

    private func watching(key: String, pid: pid_t) {
        entries[key]?.pid = pid
        entries[key]?.startedAt = Self.now()
    }

    private func failToStart(_ key: String, _ reason: String) {
        guard var entry = entries[key] else { return }
        let action = entry.machine.exited(now: Self.now(), description: reason)
        entries[key] = entry
        perform(action, for: key)
    }

    private func spawnBPM(_ key: String, _ process: BPMProcess) {
        guard var entry = entries[key] else { return }
        let log = paths.jobLog(entry.job)
        try? Filesystem.makeDirectory(log, mode: 0o750)
        guard let pid = ProcessSpawner.spawn(
            process.executable, process.args, environment: environment(for: entry.job, extra: process.env),
            workdir: process.workdir ?? paths.job(entry.job),
            stdout: log + "/\(process.name).stdout.log", stderr: log + "/\(process.name).stderr.log")
        else {
            failToStart(key, "could not be started")
            return
        }
        entry.pid = pid
        entry.startedAt = Self.now()
        entries[key] = entry
        // A thread per process blocks in waitpid, so an exit is seen the moment it happens.
        Thread.detachNewThread { [weak self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let description = (status & 0x7f) == 0 ? "exited with status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
            Task { await self?.exited(key: key, pid: pid, description: description) }
        }
    }

    private func exited(key: String, pid: pid_t, description: String) {
        guard var entry = entries[key], entry.pid == pid else { return }
        entry.pid = nil
        entry.startedAt = nil
        let action = entry.machine.exited(now: Self.now(), description: description)
        entries[key] = entry
        perform(action, for: key)
    }
}

/// posix_spawn with output appended to log files.
enum ProcessSpawner {
    /// True for a process that exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z ")
    }

    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String], workdir: String, stdout: String, stderr: String
    ) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so signals to the agent do not hit the jobs; default signal
        // handling and an empty mask, since the agent ignores SIGTERM/SIGINT to handle them itself
        // and ignored signals would otherwise be inherited across exec.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        // `env -C` enters the work directory and execs the program: the pid stays the process's own.
        let command = FileManager.default.fileExists(atPath: workdir)
            ? ["/usr/bin/env", "-C", workdir, executable] + arguments : [executable] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, command[0], &actions, &attributes, argv, envp) == 0 else { return nil }
        return pid
    }
}
