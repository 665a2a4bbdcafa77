import CBosunShims
import Foundation

/// Starting, watching and taking over processes: the half of the supervisor that talks to the
/// system.
extension Supervisor {
    func environment(for job: String, extra: [String: String] = [:]) -> [String] {
        ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/vcap/data/\(job)", "LANG=C.UTF-8"] + extra.map { "\($0.key)=\($0.value)" }
    }

    /// Runs a monit `start`/`stop program` line through the shell, without waiting.
    func runDetached(_ command: String, job: String, log: String) {
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

    func spawn(_ key: String) {
        guard let entry = entries[key] else { return }
        switch entry.kind {
        case .bpm(let process): spawnBPM(key, process)
        case .monit(let process): spawnMonit(key, process)
        }
    }

    /// Runs the start program; once it returns, the pidfile names the daemon, watched by pidfd.
    func spawnMonit(_ key: String, _ process: MonitProcess) {
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
            Task { await self?.watch(key: key, pid: daemon, since: Self.now()) }
        }
    }

    /// Records `pid` for the process and waits for its exit through a pidfd, on a thread of its
    /// own; that works whether or not the process is the agent's child (and reaps it if it is).
    func watch(key: String, pid: pid_t, since: Double) {
        entries[key]?.pid = pid
        entries[key]?.startedAt = since
        let descriptor = bosun_pidfd_open(pid)
        Thread.detachNewThread { [weak self] in
            if descriptor >= 0 {
                _ = bosun_pidfd_wait(descriptor, -1)
                close(descriptor)
            }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG) == pid
            Task { await self?.exited(key: key, pid: pid, description: reaped ? Self.describe(status) : "pid \(pid) failed") }
        }
    }

    static func describe(_ status: Int32) -> String {
        (status & 0x7f) == 0 ? "exited with status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
    }

    /// Where a bpm process's pid is kept, as bpm keeps it: `sys/run/bpm/<job>/<process>.pid`.
    func bpmPidfile(job: String, process: String) -> String {
        paths.sysRun + "/bpm/" + job + "/" + process + ".pid"
    }

    /// Takes over processes that are still running from before the agent restarted (it re-execs
    /// itself after `update_settings` changes its NATS or blobstore settings, or it crashed): each
    /// stopped entry whose pidfile names a live process that started before the pidfile was written
    /// (so not a stranger that reused the pid) is watched as running instead of being started a
    /// second time. Returns the number taken over.
    @discardableResult
    func adoptRunningProcesses() -> Int {
        var adopted = 0
        for key in order {
            guard let entry = entries[key], case .stopped = entry.machine.state else { continue }
            let pidfile: String?
            switch entry.kind {
            case .bpm(let process): pidfile = bpmPidfile(job: entry.job, process: process.name)
            case .monit(let process): pidfile = process.pidfile
            }
            guard let pidfile, let text = try? String(contentsOfFile: pidfile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1, ProcessSpawner.isAlive(pid),
                ProcessSpawner.started(pid, notLaterThanFileAt: pidfile)
            else { continue }
            _ = entries[key]!.machine.adopt(now: Self.now())
            watch(key: key, pid: pid, since: ProcessSpawner.startTime(of: pid) ?? Self.now())
            adopted += 1
        }
        return adopted
    }

    func failToStart(_ key: String, _ reason: String) {
        guard var entry = entries[key] else { return }
        let action = entry.machine.exited(now: Self.now(), description: reason)
        entries[key] = entry
        perform(action, for: key)
    }

    func spawnBPM(_ key: String, _ process: BPMProcess) {
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
        // The pid is kept where a restarted agent looks for it (and where bpm keeps it).
        let pidfile = bpmPidfile(job: entry.job, process: process.name)
        try? Filesystem.makeDirectory(URL(fileURLWithPath: pidfile).deletingLastPathComponent().path, mode: 0o750)
        try? Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: pidfile), options: .atomic)
        // A thread per process blocks in waitpid, so an exit is seen the moment it happens.
        Thread.detachNewThread { [weak self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            unlink(pidfile)
            Task { await self?.exited(key: key, pid: pid, description: Self.describe(status)) }
        }
    }

    func exited(key: String, pid: pid_t, description: String) {
        guard var entry = entries[key], entry.pid == pid else { return }
        entry.pid = nil
        entry.startedAt = nil
        let action = entry.machine.exited(now: Self.now(), description: description)
        entries[key] = entry
        perform(action, for: key)
    }
}
