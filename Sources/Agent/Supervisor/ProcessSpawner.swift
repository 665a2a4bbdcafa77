import Foundation

/// posix_spawn with output appended to log files.
enum ProcessSpawner {
    /// True for a process that exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z ")
    }

    /// True when the process started no later than the file was last written (two seconds of
    /// slack): a pidfile's own process did; one that reused the pid after it died did not.
    static func started(_ pid: pid_t, notLaterThanFileAt path: String) -> Bool {
        guard let sinceBoot = startTime(of: pid), let boot = bootTime(),
            let written = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        else { return false }
        return boot + sinceBoot <= written.timeIntervalSince1970 + 2
    }

    /// When the machine booted, in seconds since 1970 (`btime` in /proc/stat).
    static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
        else { return nil }
        return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
    }

    /// When the process started, in seconds since boot (field 22 of /proc/<pid>/stat); on Linux
    /// that is also the supervisor's monotonic clock.
    static func startTime(of pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 (starttime, in clock ticks) is fields[19].
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
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
