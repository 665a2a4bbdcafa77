import Crypto
import Foundation

/// One file of a job or package as the fingerprint and the tarball see it.
struct ReleaseFile: Sendable {
    /// Where it sits inside the job or package tarball.
    var relativePath: String
    var absolutePath: String
    /// `packaging` and `pre_packaging` are fingerprinted without their mode.
    var excludeMode = false
}

/// The bosh CLI's fingerprint (reference §7.1): SHA-256 over `"v2"`, then for each file sorted by
/// its path inside the archive: the path, the file's `sha256:<hex>` digest and its git-style mode
/// (`100755` executable, `100644` other; left out for package hook scripts), then the extra
/// chunks (a package's dependency names) sorted and joined with commas. Equal to what the
/// official CLI writes, so releases built by either are interchangeable.
enum ReleaseFingerprint {
    static func calculate(_ files: [ReleaseFile], extraChunks: [String] = []) throws -> String {
        var text = "v2"
        for file in files.sorted(by: { $0.relativePath < $1.relativePath }) {
            text += file.relativePath + "sha256:" + (try sha256(ofFileAt: file.absolutePath))
            if !file.excludeMode { text += isExecutable(file.absolutePath) ? "100755" : "100644" }
        }
        if !extraChunks.isEmpty { text += extraChunks.sorted().joined(separator: ",") }
        return hex(SHA256.hash(data: Data(text.utf8)))
    }

    static func sha256(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure(message: "Reading '\(path)' failed")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }

    static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & 0o111 != 0
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// `files:` patterns of a package spec: `*` and `?` within a path segment, `**` across segments.
enum ReleaseGlob {
    static func matches(_ pattern: String, _ path: String) -> Bool {
        match(Array(pattern.split(separator: "/", omittingEmptySubsequences: true)), Array(path.split(separator: "/")))
    }

    private static func match(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = Array(pattern.dropFirst())
            for start in 0...path.count where match(rest, Array(path[start...])) { return true }
            return false
        }
        guard let segment = path.first, fnmatch(String(head), String(segment), 0) == 0 else { return false }
        return match(Array(pattern.dropFirst()), Array(path.dropFirst()))
    }
}
