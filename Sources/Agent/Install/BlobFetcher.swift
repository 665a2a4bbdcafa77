import Blobstore
import Foundation

/// Finds a blob the way bosh-agent's cascading blobstore does: a blob delivered over NATS
/// (`sensitive_blobs/<id>`), then a blob placed on the VM (`data/blobs/<id>`), then the director's
/// blobstore — through the blob's pre-signed URL when the director sent one (agents without
/// blobstore credentials). Every copy is checked against its digest before it is used.
struct BlobFetcher: Sendable {
    let paths: AgentPaths
    /// Built on first use: a VM that only gets NATS-delivered blobs needs no blobstore.
    let blobstore: @Sendable () throws -> any BlobstoreClient
    let signedURLClient: @Sendable () throws -> DAVBlobstoreClient

    /// A local file with the blob's bytes.
    struct Fetched: Sendable {
        let path: String
        /// Downloaded for this use; removed by `discard()`.
        let isDownloaded: Bool
        /// Came over NATS with credentials inside; removed once installed.
        let isSensitive: Bool

        func discard() {
            if isDownloaded { unlink(path) }
        }
    }

    /// `what` names the blob in errors ("package ruby", "rendered templates").
    func fetch(_ id: String, digest text: String, what: String, signedURL: String? = nil) async throws -> Fetched {
        guard BlobLayout.isValid(id) else { throw ActionError("\(what): invalid blob id '\(id)'") }
        let digest: BlobDigest
        do {
            digest = try BlobDigest(text)
        } catch {
            throw ActionError("\(what): \(error.description)")
        }
        for (directory, sensitive) in [(paths.sensitiveBlobs, true), (paths.data + "/blobs", false)] {
            let path = directory + "/" + id
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let actual = try await BlobFiles.digest(ofFileAt: path, algorithm: digest.strongest)
            guard actual == digest.digests[digest.strongest] else {
                throw ActionError("\(what): local blob \(id) has \(digest.strongest.rawValue) \(actual), expected \(digest.digests[digest.strongest]!)")
            }
            return Fetched(path: path, isDownloaded: false, isSensitive: sensitive)
        }
        let destination = paths.data + "/tmp/blob-" + UUID().uuidString.lowercased()
        do {
            if let signedURL {
                try await signedURLClient().get(signedURL: signedURL, digest: digest, to: destination)
            } else {
                try await blobstore().get(id, digest: digest, to: destination)
            }
        } catch {
            throw ActionError("\(what): \(error)")
        }
        return Fetched(path: destination, isDownloaded: true, isSensitive: false)
    }
}

/// Unpacks release tarballs (gzipped or not) with the system's tar, as bosh-agent does, without
/// taking owners from the archive.
enum TarArchive {
    /// Whether `file` starts with gzip's magic bytes.
    static func isGzipped(_ file: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: file) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data([0x1f, 0x8b])
    }

    static func extract(_ file: String, into directory: String) async throws {
        try Filesystem.makeDirectory(directory, mode: 0o755)
        do {
            try await ProcessRunner.checked("/bin/tar", ["--no-same-owner", "-xf", file, "-C", directory])
        } catch {
            throw ActionError("cannot unpack \(URL(fileURLWithPath: file).lastPathComponent): \(error)")
        }
    }

    /// A tarball of `directory`'s contents (entries `./…`), gzipped unless `gzip` is false.
    static func create(_ file: String, from directory: String, gzip: Bool = true) async throws {
        do {
            try await ProcessRunner.checked("/bin/tar", [gzip ? "-czf" : "-cf", file, "-C", directory, "."])
        } catch {
            throw ActionError("cannot pack \(directory): \(error)")
        }
    }
}

/// Runs `work` for each item with at most `limit` at a time; the first failure cancels the rest.
func forEachConcurrently<Item: Sendable>(
    _ items: [Item], limit: Int, _ work: @escaping @Sendable (Item) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var pending = items[...]
        for _ in 0..<max(1, limit) {
            guard let item = pending.popFirst() else { break }
            group.addTask { try await work(item) }
        }
        while try await group.next() != nil {
            if let item = pending.popFirst() { group.addTask { try await work(item) } }
        }
    }
}
