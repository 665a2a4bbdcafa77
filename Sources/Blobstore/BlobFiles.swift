import NIOCore
import NIOFileSystem

/// Streaming file work shared by the clients and the director's store.
public enum BlobFiles {
    /// The digest of a file with `algorithm`, read in chunks.
    public static func digest(ofFileAt path: String, algorithm: BlobDigest.Algorithm) async throws -> String {
        try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
            var digest = StreamingDigest(algorithm)
            for try await chunk in handle.readChunks() { digest.update(chunk) }
            return digest.hex()
        }
    }

    /// Writes `chunks` to `path` through a temporary file that is renamed into place only when the
    /// digest (if given) matches, so readers never see a partial or wrong blob.
    @discardableResult
    public static func write<Chunks: AsyncSequence>(
        _ chunks: Chunks, to path: String, expecting digest: BlobDigest?, blobID: String
    ) async throws -> String where Chunks.Element == ByteBuffer {
        let algorithm = digest?.strongest ?? .sha1
        let temporary = path + ".part-\(UInt32.random(in: 0...UInt32.max))"
        var running = StreamingDigest(algorithm)
        do {
            try await FileSystem.shared.withFileHandle(
                forWritingAt: FilePath(temporary), options: .newFile(replaceExisting: true)
            ) { handle in
                var writer = handle.bufferedWriter()
                for try await chunk in chunks {
                    running.update(chunk)
                    try await writer.write(contentsOf: chunk)
                }
                try await writer.flush()
            }
            let actual = running.hex()
            if let digest, let expected = digest.digests[algorithm], expected != actual {
                throw BlobstoreError("blob \(blobID) has \(algorithm.rawValue) \(actual), expected \(expected)")
            }
            try await FileSystem.shared.replaceItem(at: FilePath(path), withItemAt: FilePath(temporary))
            return actual
        } catch {
            _ = try? await FileSystem.shared.removeItem(at: FilePath(temporary))
            throw error
        }
    }

    public static func size(ofFileAt path: String) async throws -> Int64? {
        try await FileSystem.shared.info(forFileAt: FilePath(path)).map { Int64($0.size) }
    }
}
