/// The life of one supervised process, without I/O: the supervisor feeds it events and does what
/// it returns. Crashes are restarted with exponential back-off; a process that stays up for
/// `stableAfter` earns its back-off reset.
struct ProcessStateMachine: Equatable, Sendable {
    enum State: Equatable, Sendable {
        case stopped
        /// Spawned; counts as running once `startGrace` has passed without an exit.
        case starting(since: Double)
        case running(since: Double)
        /// Exited unexpectedly; will be started again at `restartAt`.
        case crashed(at: Double, restartAt: Double)
        /// Being stopped; SIGKILL at `killAt` if it has not exited.
        case stopping(killAt: Double)
    }

    enum Action: Equatable, Sendable {
        case none
        case spawn
        /// Send the shutdown signal (TERM, or the bpm `shutdown_signal`).
        case terminate
        case kill
        /// Publish an alert: the process failed.
        case alert(String)
    }

    private(set) var state: State = .stopped
    private(set) var consecutiveCrashes = 0
    let startGrace: Double
    let stopGrace: Double
    let baseRestartDelay: Double
    let maxRestartDelay: Double
    let stableAfter: Double

    init(startGrace: Double = 1, stopGrace: Double = 15, baseRestartDelay: Double = 1, maxRestartDelay: Double = 60, stableAfter: Double = 60) {
        self.startGrace = startGrace
        self.stopGrace = stopGrace
        self.baseRestartDelay = baseRestartDelay
        self.maxRestartDelay = maxRestartDelay
        self.stableAfter = stableAfter
    }

    mutating func start(now: Double) -> Action {
        switch state {
        case .stopped, .crashed:
            state = .starting(since: now)
            return .spawn
        case .starting, .running, .stopping:
            return .none
        }
    }

    /// A process found already running (started before the agent restarted): it is taken over as
    /// running, not started again.
    mutating func adopt(now: Double) -> Action {
        guard case .stopped = state else { return .none }
        state = .running(since: now)
        return .none
    }

    /// The process exited on its own (not asked to stop).
    mutating func exited(now: Double, description: String) -> Action {
        switch state {
        case .stopping, .stopped:
            state = .stopped
            return .none
        case .starting(let since), .running(let since):
            if now - since >= stableAfter { consecutiveCrashes = 0 }
            consecutiveCrashes += 1
            let delay = min(maxRestartDelay, baseRestartDelay * Double(1 << min(consecutiveCrashes - 1, 20)))
            state = .crashed(at: now, restartAt: now + delay)
            return .alert(description)
        case .crashed:
            return .none
        }
    }

    /// Time passes: promote a healthy start, restart a crashed process, escalate a slow stop.
    mutating func tick(now: Double) -> Action {
        switch state {
        case .starting(let since) where now - since >= startGrace:
            state = .running(since: since)
            return .none
        case .crashed(_, let restartAt) where now >= restartAt:
            state = .starting(since: now)
            return .spawn
        case .stopping(let killAt) where now >= killAt:
            state = .stopping(killAt: .infinity)
            return .kill
        default:
            return .none
        }
    }

    mutating func stop(now: Double) -> Action {
        switch state {
        case .starting, .running:
            state = .stopping(killAt: now + stopGrace)
            return .terminate
        case .crashed:
            state = .stopped
            return .none
        case .stopped, .stopping:
            return .none
        }
    }

    /// The status word `get_state` shows for this process.
    var status: String {
        switch state {
        case .stopped: return "stopped"
        case .starting: return "starting"
        case .running: return "running"
        case .crashed: return "failing"
        case .stopping: return "stopping"
        }
    }
}

/// `job_state` from the processes (reference §2.4), plus a state BOSH lacks: after a reboot with a
/// tmpfs job directory the templates are gone, and the agent says so instead of refusing to start.
enum JobState {
    static func compute(processes: [ProcessStateMachine], stopped: Bool, templatesMissing: Bool) -> String {
        if templatesMissing { return "templates_missing" }
        if stopped { return "stopped" }
        if processes.contains(where: { if case .starting = $0.state { return true } else { return false } }) {
            return "starting"
        }
        if processes.contains(where: { if case .running = $0.state { return false } else { return true } }) {
            return "failing"
        }
        return "running"
    }
}
