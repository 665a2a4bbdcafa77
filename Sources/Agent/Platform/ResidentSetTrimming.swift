import CBosunShims
import Logging
import ServiceLifecycle

/// The agent runs on every VM and idles most of its life, yet the kernel maps code around every
/// page it touches (fault-around, 64 KB at a time) and keeps what start-up ran: most of its
/// resident set is code it will not run again. A few seconds after start, and then every
/// interval, the agent drops the pages of its code and read-only file data from its resident set
/// and marks those mappings for single-page faults (`bosun_trim_file_pages`), so what stays
/// resident is what the agent really runs while idle — heartbeats, requests — not start-up and
/// its neighbours. Pages it needs again fault back in from the page cache (a minor fault, no I/O).
enum ResidentSetTrimming {
    /// How long after start the first trim waits: start-up (settings, NATS, first heartbeat) is done.
    static let firstDelay: Duration = .seconds(3)

    static func run(every interval: Duration, logger: Logger) async {
        var delay = min(firstDelay, interval)
        var first = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            let advised = bosun_trim_file_pages()
            if first {
                logger.info("Trimmed the resident set", metadata: ["agent.file_mappings_mb": "\(advised >> 20)"])
                first = false
            }
            delay = interval
        }
    }
}
