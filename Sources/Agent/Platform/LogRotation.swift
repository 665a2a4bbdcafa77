import BosunCore
import Foundation

/// Keeps job logs from filling the ephemeral disk: every `*.log` (and `.*.log`) up to two levels
/// below `/var/vcap/sys/log`, and the agent's own `bosh/log/current`, is rotated once it is larger
/// than the limit — BOSH's logrotate policy (`copytruncate`, 7 gzipped generations,
/// `properties.logging.max_log_file_size` from the apply spec, default `50M`).
///
/// BOSH installs a logrotate configuration and relies on the stemcell's cron, which checks hourly,
/// so a chatty job can fill the disk in between. The agent checks itself, every minute by default,
/// and needs no logrotate or cron on the VM.
struct LogRotation {
    static let defaultMaxSize = 50 * 1024 * 1024
    static let generations = 7

    var jobLogs: String
    var extraFiles: [String]
    var maxSize: Int

    /// logrotate's size syntax: a number of bytes, or with `k`, `M` or `G` (either case).
    static func bytes(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return nil }
        let multipliers: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30]
        let (digits, multiplier) = multipliers[last].map { (trimmed.dropLast(), $0) } ?? (Substring(trimmed), 1)
        guard let number = Int(digits), number > 0 else { return nil }
        return number * multiplier
    }

    /// The limit an apply spec asks for; the default when it asks for none or for nonsense.
    static func maxSize(spec: JSONValue) -> Int {
        spec["properties"]?["logging"]?["max_log_file_size"]?.stringValue.flatMap(bytes) ?? defaultMaxSize
    }

    /// The moves that make room for a new first generation of `path`, oldest first: the last
    /// generation is dropped, every other one moves up by one.
    static func shifts(of path: String, existing: Set<Int>) -> (remove: String?, renames: [(from: String, to: String)]) {
        let name = { (generation: Int) in "\(path).\(generation).gz" }
        let remove = existing.contains(generations) ? name(generations) : nil
        let renames = (1..<generations).reversed().filter(existing.contains).map { (name($0), name($0 + 1)) }
        return (remove, renames)
    }

    /// Log files at most two directories below `jobLogs`, plus the extra files.
    func candidates() -> [String] {
        var found: [String] = []
        func scan(_ directory: String, depth: Int) {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
                let path = directory + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if depth < 2 { scan(path, depth: depth + 1) }
                } else if name.hasSuffix(".log") {
                    found.append(path)
                }
            }
        }
        scan(jobLogs, depth: 0)
        return found + extraFiles
    }

    /// Rotates every candidate over the limit; returns the files rotated.
    func rotateOversized() async -> [String] {
        var rotated: [String] = []
        for path in candidates() {
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, Int(status.st_size) > maxSize else { continue }
            if await rotate(path) { rotated.append(path) }
        }
        return rotated
    }

    /// copytruncate: the writer keeps its descriptor (O_APPEND writers continue at the new end);
    /// lines written between the copy and the truncation are lost, as with logrotate.
    private func rotate(_ path: String) async -> Bool {
        let existing = Set((1...Self.generations).filter { FileManager.default.fileExists(atPath: "\(path).\($0).gz") })
        let (remove, renames) = Self.shifts(of: path, existing: existing)
        if let remove { unlink(remove) }
        for rename in renames { Foundation.rename(rename.from, rename.to) }
        let first = path + ".1"
        unlink(first)
        guard (try? FileManager.default.copyItem(atPath: path, toPath: first)) != nil else { return false }
        truncate(path, 0)
        return await ProcessRunner.status("/bin/gzip", ["-f", first]) == 0
    }
}
