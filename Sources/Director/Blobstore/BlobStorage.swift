import Blobstore
import Foundation
import NIOCore
import NIOFileSystem

/// The director's blobs: files under `<state>/blobstore/<prefix>/<id>`. Writes land through a
/// temporary file and a rename, so a crash never leaves half a blob under a real id.
public struct BlobStorage: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// The file of blob `id`, or nil when the id cannot name a blob.
    public func path(of id: String) -> String? {
        BlobLayout.isValid(id) ? root + "/" + BlobLayout.relativePath(of: id) : nil
    }

    /// Stores `chunks` as blob `id` and returns its SHA-1 hex; a given digest must match.
    @discardableResult
    public func store<Chunks: AsyncSequence>(_ chunks: Chunks, as id: String, expecting digest: BlobDigest? = nil) async throws -> String
    where Chunks.Element == ByteBuffer {
        guard let path = path(of: id) else { throw BlobstoreError("invalid blob id '\(id)'") }
        try await FileSystem.shared.createDirectory(
            at: FilePath(path).removingLastComponent(), withIntermediateDirectories: true)
        return try await BlobFiles.write(chunks, to: path, expecting: digest, blobID: id)
    }

    /// Stores bytes already in memory as blob `id`; returns their SHA-1 hex.
    @discardableResult
    public func store(_ data: Data, as id: String) async throws -> String {
        try await store(SingleChunk(buffer: ByteBuffer(bytes: data)), as: id)
    }

    public func exists(_ id: String) -> Bool {
        path(of: id).map { FileManager.default.fileExists(atPath: $0) } ?? false
    }

    /// Removes blob `id`; true when there was one.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        guard let path = path(of: id) else { return false }
        return unlink(path) == 0
    }
}

/// One buffer as an async sequence of chunks.
struct SingleChunk: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer

    struct AsyncIterator: AsyncIteratorProtocol {
        var buffer: ByteBuffer?
        mutating func next() async throws -> ByteBuffer? {
            defer { buffer = nil }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
