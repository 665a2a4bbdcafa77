import Foundation

/// Restarts the agent in place: the same executable and arguments, the same pid. The job
/// processes it spawned stay its children and are taken over from their pidfiles by the new image.
enum SelfExec {
    /// Returns only if the exec failed.
    static func restart() -> Int32 {
        // Nothing of this image may leak into the next one: every descriptor closes on exec (the
        // NATS socket first of all, or the server would keep a second, deaf subscriber)…
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            for entry in entries {
                guard let descriptor = Int32(entry), descriptor > 2 else { continue }
                let flags = fcntl(descriptor, F_GETFD)
                if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
            }
        }
        // …and no signal stays blocked or ignored (ignored dispositions survive exec).
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { Foundation.signal(signal, SIG_DFL) }
        let argv = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        return errno
    }
}
