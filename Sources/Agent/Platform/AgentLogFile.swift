import Foundation
import Logging

/// The agent's own log, `/var/vcap/bosh/log/current` (what operators tail, and what `fetch_logs`
/// with `agent` packs): one line per event, UTC timestamp, level, message, then metadata. Lines are
/// appended with single `write` calls on an `O_APPEND` descriptor, so concurrent writers never
/// interleave within a line.
struct AgentLogFile: LogHandler {
    /// Opened once per process and kept; closing it is left to the process's exit.
    private let descriptor: Int32
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    init?(path: String) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        var text = Self.timestamp() + " " + event.level.rawValue.uppercased() + " " + event.message.description
        for key in all.keys.sorted() { text += " \(key)=\(all[key]!)" }
        text += "\n"
        _ = text.utf8.withContiguousStorageIfAvailable { bytes in write(descriptor, bytes.baseAddress, bytes.count) }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}
