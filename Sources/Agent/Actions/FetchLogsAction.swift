import AgentProtocol
import Blobstore
import BosunCore
import Foundation

/// `fetch_logs(log_type, filters)`: packs the VM's logs into a tarball, uploads it and answers
/// `{"blobstore_id", "sha1"}` (what `bosh logs` downloads). Types: `job` (`/var/vcap/sys/log`),
/// `agent` (`/var/vcap/bosh/log`), `system` (`/var/log`), comma-separated. Filters are globs
/// relative to each type's directory (`**/*.log`, `web/*`); none means every file. With one type
/// the tarball holds its files directly; with several, each type has its own top-level directory.
struct FetchLogsAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        try await Self.fetch(
            types: try arguments.string(0, "log_type"), filters: arguments.count > 1 ? arguments[1] : .null, agent: agent, uploadURL: nil)
    }

    /// Packs the logs of `types` (comma-separated) matching `filters` and stores the tarball in the
    /// blobstore, or at `uploadURL`.
    static func fetch(types list: String, filters: JSONValue, agent: AgentContext, uploadURL: String?) async throws -> JSONValue {
        let types = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let directories = ["job": agent.paths.sysLog, "agent": agent.paths.log, "system": agent.paths.systemLog]
        for type in types where directories[type] == nil {
            throw ActionError("Unknown log type '\(type)' (known: job, agent, system)")
        }
        var patterns: [LogGlob] = []
        if case .array(let filters) = filters {
            patterns = filters.compactMap(\.stringValue).map(LogGlob.init)
        }
        if patterns.isEmpty { patterns = [LogGlob("**/*")] }

        // A tree of links to the chosen files; tar follows them, so nothing is copied twice.
        let staging = agent.paths.data + "/tmp/logs-" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try Filesystem.makeDirectory(staging, mode: 0o700)
        for type in Set(types) {
            let base = directories[type]!
            let target = types.count == 1 ? staging : staging + "/" + type
            for relative in Self.files(under: base) where patterns.contains(where: { $0.matches(relative) }) {
                let link = target + "/" + relative
                try Filesystem.makeDirectory(URL(fileURLWithPath: link).deletingLastPathComponent().path, mode: 0o700)
                symlink(base + "/" + relative, link)
            }
        }
        let tarball = staging + ".tgz"
        defer { unlink(tarball) }
        do {
            try await ProcessRunner.checked("/bin/tar", ["-czhf", tarball, "-C", staging, "."])
        } catch {
            throw ActionError("Cannot pack the logs: \(error)")
        }
        let blob = try await agent.upload(tarball, what: "the logs", signedURL: uploadURL)
        return ["blobstore_id": .string(blob.id), "sha1": .string(blob.sha1)]
    }

    /// Regular files under `base`, as paths relative to it.
    static func files(under base: String) -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: base)
        while let relative = enumerator?.nextObject() as? String {
            var info = stat()
            if lstat(base + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { found.append(relative) }
        }
        return found.sorted()
    }
}

/// `fetch_logs_with_signed_url({signed_url, log_type, filters})`: `fetch_logs` for an agent without
/// blobstore credentials; the tarball goes to the pre-signed URL. Answers `{"blobstore_id", "sha1"}`.
struct FetchLogsWithSignedURLAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let request = try arguments.object(0, "request")
        guard let url = request["signed_url"]?.stringValue, let types = request["log_type"]?.stringValue else {
            throw ActionError("fetch_logs_with_signed_url: signed_url and log_type are required")
        }
        return try await FetchLogsAction.fetch(types: types, filters: request["filters"] ?? .null, agent: agent, uploadURL: url)
    }
}

/// A log filter: `*` and `?` stay within one path component, `**/` spans any number of them.
struct LogGlob: Sendable {
    let pattern: String
    init(_ pattern: String) { self.pattern = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern }

    func matches(_ path: String) -> Bool { Self.match(Array(pattern.utf8)[...], Array(path.utf8)[...]) }

    private static func match(_ pattern: ArraySlice<UInt8>, _ path: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
        if first == star, pattern.dropFirst().first == star {
            // `**/` matches nothing or any run of whole components; a trailing `**` matches the rest.
            var rest = pattern.dropFirst(2)
            if rest.first == slash { rest = rest.dropFirst() } else if rest.isEmpty { return true }
            if match(rest, path) { return true }
            var remaining = path
            while let index = remaining.firstIndex(of: slash) {
                remaining = remaining[(index + 1)...]
                if match(rest, remaining) { return true }
            }
            return false
        }
        if first == star {
            var remaining = path
            while true {
                if match(pattern.dropFirst(), remaining) { return true }
                guard let next = remaining.first, next != slash else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let character = path.first else { return false }
        if first == UInt8(ascii: "?") ? character != slash : first == character {
            return match(pattern.dropFirst(), path.dropFirst())
        }
        return false
    }
}
