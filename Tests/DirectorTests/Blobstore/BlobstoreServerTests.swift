import Blobstore
import Director
import Foundation
import Testing
import TestSupport

@Suite("Blobstore digests")
struct BlobDigestTests {
    @Test("a bare hex string is a SHA-1; a multi-digest is checked with its strongest algorithm")
    func parsing() throws {
        let sha1 = String(repeating: "a", count: 40)
        let sha256 = String(repeating: "B", count: 64)
        #expect(try BlobDigest(sha1).strongest == .sha1)
        let multi = try BlobDigest("sha1:\(sha1);sha256:\(sha256)")
        #expect(multi.strongest == .sha256)
        #expect(multi.digests[.sha256] == sha256.lowercased())
        #expect(multi.description == "sha256:\(sha256.lowercased());sha1:\(sha1)")
    }

    @Test("malformed digests are refused with what is wrong")
    func malformed() {
        #expect(throws: BlobDigest.Invalid.self) { try BlobDigest("md5:abc") }
        #expect(throws: BlobDigest.Invalid.self) { try BlobDigest("sha256:" + String(repeating: "a", count: 40)) }
        #expect(throws: BlobDigest.Invalid.self) { try BlobDigest("") }
        #expect(throws: BlobDigest.Invalid.self) { try BlobDigest(String(repeating: "z", count: 40)) }
    }

    @Test("blob ids that could leave the blobstore root are invalid")
    func ids() {
        #expect(BlobLayout.isValid("5f0c3c6e-0f3a-4a55-9d2b-1e8f1c2a9b77"))
        #expect(!BlobLayout.isValid("../etc/passwd"))
        #expect(!BlobLayout.isValid(".hidden"))
        #expect(!BlobLayout.isValid("a/b"))
        #expect(BlobLayout.relativePath(of: "abc").hasSuffix("/abc"))
        #expect(BlobLayout.relativePath(of: "abc").count == 6)
    }
}

@Suite("Blobstore over HTTPS")
struct BlobstoreServerTests {
    static func temporaryFile(_ contents: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-blob-\(UUID().uuidString)").path
        try contents.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a blob uploaded by the DAV client downloads intact and digest-checked, then deletes")
    func roundTrip() async throws {
        try await withBlobstoreServer { blobstore in
            let contents = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let source = try Self.temporaryFile(contents)
            defer { unlink(source) }
            let client = try blobstore.client()
            let id = try await client.put(fileAt: source)
            #expect(blobstore.storage.exists(id))

            let sha256 = try await BlobFiles.digest(ofFileAt: source, algorithm: .sha256)
            let sha1 = try await BlobFiles.digest(ofFileAt: source, algorithm: .sha1)
            let destination = source + ".down"
            defer { unlink(destination) }
            try await client.get(id, digest: try BlobDigest("sha256:\(sha256);sha1:\(sha1)"), to: destination)
            #expect(FileManager.default.contents(atPath: destination) == contents)

            try await client.delete(id)
            #expect(!blobstore.storage.exists(id))
            await #expect(throws: BlobstoreError.self) {
                try await client.get(id, digest: BlobDigest(sha1: sha1), to: destination + "2")
            }
        }
    }

    @Test("a download whose digest does not match fails and leaves no file")
    func digestMismatch() async throws {
        try await withBlobstoreServer { blobstore in
            let source = try Self.temporaryFile(Data("package bits".utf8))
            defer { unlink(source) }
            let client = try blobstore.client()
            let id = try await client.put(fileAt: source)
            let destination = source + ".down"
            let wrong = BlobDigest(sha1: String(repeating: "0", count: 40))
            let error = await #expect(throws: BlobstoreError.self) { try await client.get(id, digest: wrong, to: destination) }
            #expect(error?.description.contains("expected 0000") == true)
            #expect(!FileManager.default.fileExists(atPath: destination))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
                .filter { $0.hasPrefix(URL(fileURLWithPath: destination).lastPathComponent) }
            #expect(leftovers.isEmpty)
        }
    }

    @Test("a wrong password is refused, stores nothing, and the error does not show the password")
    func wrongPassword() async throws {
        try await withBlobstoreServer { blobstore in
            let source = try Self.temporaryFile(Data("x".utf8))
            defer { unlink(source) }
            let intruder = try DAVBlobstoreClient(
                endpoint: blobstore.endpoint, user: blobstore.user, password: "not-the-password", caPEM: blobstore.caPEM)
            let error = await #expect(throws: BlobstoreError.self) { _ = try await intruder.put(fileAt: source) }
            #expect(error?.description.contains("401") == true)
            #expect(error?.description.contains("not-the-password") == false)
            let stored = (try? FileManager.default.subpathsOfDirectory(atPath: blobstore.storage.root)) ?? []
            #expect(stored.allSatisfy { !$0.contains("-") })
        }
    }

    @Test("a client that does not trust the blobstore's CA does not talk to it")
    func untrustedCertificate() async throws {
        try await withBlobstoreServer { blobstore in
            let source = try Self.temporaryFile(Data("x".utf8))
            defer { unlink(source) }
            let stranger = try DAVBlobstoreClient(
                endpoint: blobstore.endpoint, user: blobstore.user, password: blobstore.password, caPEM: nil)
            await #expect(throws: BlobstoreError.self) { _ = try await stranger.put(fileAt: source) }
        }
    }
}
