import Foundation

/// Runs and watches the jobs' processes (bpm-style: the agent spawns them itself). An exit is
/// noticed at once by a thread blocked in `waitpid`; a tick every 100 ms drives start graces,
/// restart back-off and stop escalation. One owner for all of it: this actor.
actor Supervisor {
    struct Entry {
        var job: String
        var process: BPMProcess
        var machine = ProcessStateMachine()
        var pid: pid_t?
        var startedAt: Double?
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

    /// Replaces the process set with the bpm processes of `jobs` (stopped ones only change).
    func load(jobs: [String]) throws {
        var loaded: [String: Entry] = [:]
        var order: [String] = []
        for job in jobs {
            let file = paths.job(job) + "/config/bpm.yml"
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for process in try BPMConfig.parse(text, job: job) {
                let key = job + "/" + process.name
                loaded[key] = entries[key] ?? Entry(job: job, process: process)
                loaded[key]!.process = process
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

    func snapshot() -> (jobState: String, processes: [(name: String, state: String, uptime: Int)]) {
        let now = Self.now()
        let processes = order.compactMap { key -> (String, String, Int)? in
            guard let entry = entries[key] else { return nil }
            return (entry.process.name, entry.machine.status, entry.startedAt.map { Int(now - $0) } ?? 0)
        }
        let jobState = order.isEmpty ? "running"
            : JobState.compute(processes: order.compactMap { entries[$0]?.machine }, stopped: stopped, templatesMissing: false)
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
        case .terminate: if let pid = entry.pid { kill(pid, entry.process.shutdownSignal) }
        case .kill: if let pid = entry.pid { kill(pid, SIGKILL) }
        case .alert(let description): onCrash(entry.job, entry.process.name, description)
        }
    }

    private func spawn(_ key: String) {
        guard var entry = entries[key] else { return }
        let log = paths.jobLog(entry.job)
        try? Filesystem.makeDirectory(log, mode: 0o750)
        var environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/vcap/data/\(entry.job)", "LANG=C.UTF-8"]
        environment += entry.process.env.map { "\($0.key)=\($0.value)" }
        guard let pid = ProcessSpawner.spawn(
            entry.process.executable, entry.process.args, environment: environment,
            workdir: entry.process.workdir ?? paths.job(entry.job),
            stdout: log + "/\(entry.process.name).stdout.log", stderr: log + "/\(entry.process.name).stderr.log")
        else {
            perform(entry.machine.exited(now: Self.now(), description: "\(entry.process.name) could not be started"), for: key)
            entries[key]!.machine = entry.machine
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
