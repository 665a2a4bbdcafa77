import Foundation

/// Directory creation, tmpfs mounts and mount checks, straight through the system calls.
enum Filesystem {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func makeDirectory(_ path: String, mode: Int = 0o755) throws(Failure) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw Failure(description: "cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// Writes `data` readable by root only (0600) through a temporary file and a rename, so a crash
    /// leaves either the old file or the new one, never half of it.
    static func writePrivately(_ data: Data, to path: String) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
            rename(temporary, path) == 0
        else {
            unlink(temporary)
            throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Makes `path` a symlink to `target`, replacing whatever link was there in one rename.
    static func replaceSymlink(at path: String, pointingTo target: String) throws(Failure) {
        let temporary = path + ".new-\(getpid())"
        unlink(temporary)
        guard symlink(target, temporary) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot link \(path) to \(target): \(reason)")
        }
    }

    /// Mounts a tmpfs of `size` (`100m`, bytes…) on `path`, unless something is already mounted there.
    static func mountTmpfs(at path: String, size: String, mode: String = "0750") throws(Failure) {
        try makeDirectory(path)
        if isMountpoint(path) { return }
        let options = "size=\(size),mode=\(mode)"
        guard mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
            throw Failure(description: "cannot mount tmpfs (\(options)) on \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// True when `path` is the mount point of some filesystem (per /proc/self/mountinfo).
    static func isMountpoint(_ path: String) -> Bool {
        mountInfo(for: path) != nil
    }

    /// The filesystem type and options mounted exactly at `path`, if any.
    static func mountInfo(for path: String) -> (type: String, options: String)? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var found: (String, String)?
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            let fields = halves[0].split(separator: " ")
            guard fields.count > 4, unescape(String(fields[4])) == path, halves.count == 2 else { continue }
            let rest = halves[1].split(separator: " ")
            found = (String(rest.first ?? ""), rest.count > 2 ? String(rest[2]) : "")
        }
        return found
    }

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\040", with: " ")
    }
}
