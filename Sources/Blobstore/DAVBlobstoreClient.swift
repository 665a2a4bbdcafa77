import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFileSystem
import NIOHTTP1
import NIOSSL

/// The DAV blobstore protocol BOSH agents speak to the director: `GET`/`PUT`/`DELETE`
/// `<endpoint>/<prefix>/<id>` with basic auth, over HTTPS trusting the director's CA. Requests go
/// through one process-wide HTTP client, each with this blobstore's TLS settings; a request that
/// cannot connect is tried three times, one that meets an untrusted certificate fails at once.
public struct DAVBlobstoreClient: BlobstoreClient {
    private let endpoint: String
    private let authorization: String?
    private let tls: TLSConfiguration
    private let timeout: TimeAmount = .minutes(10)

    public init(endpoint: String, user: String?, password: String?, caPEM: String?) throws {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        if let user, let password {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            } catch {
                throw BlobstoreError("blobstore.options.tls.cert.ca is not a PEM certificate")
            }
        }
        self.tls = tls
    }

    private func request(_ method: HTTPMethod, _ id: String) throws -> HTTPClientRequest {
        guard BlobLayout.isValid(id) else { throw BlobstoreError("invalid blob id '\(id)'") }
        return request(method, url: endpoint + "/" + BlobLayout.relativePath(of: id))
    }

    private func request(_ method: HTTPMethod, url: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.tlsConfiguration = tls
        // One connection per blob: transfers are few and large, and an agent keeps no idle sockets
        // open to the director (which also lets the blobstore shut down without waiting on them).
        request.headers.add(name: "Connection", value: "close")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    private func perform(_ request: HTTPClientRequest, _ what: String) async throws -> HTTPClientResponse {
        var attempt = 1
        while true {
            do {
                return try await blobstoreHTTPClient.execute(request, timeout: timeout)
            } catch let error as NIOSSLError {
                throw BlobstoreError("cannot \(what): TLS: \(error)")
            } catch let error as BoringSSLError {
                throw BlobstoreError("cannot \(what): TLS: \(error)")
            } catch {
                if attempt == 3 || Task.isCancelled { throw BlobstoreError("cannot \(what): \(Self.describe(error))") }
                attempt += 1
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    public func get(_ id: String, digest: BlobDigest, to path: String) async throws {
        try await download(try request(.GET, id), name: id, digest: digest, to: path)
    }

    public func put(fileAt path: String) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await upload(path, with: try request(.PUT, id), name: id)
        return id
    }

    private func download(_ request: HTTPClientRequest, name: String, digest: BlobDigest, to path: String) async throws {
        let response = try await perform(request, "download blob \(name)")
        guard response.status == .ok else {
            throw BlobstoreError("cannot download blob \(name): blobstore answered \(response.status.code)")
        }
        try await BlobFiles.write(response.body, to: path, expecting: digest, blobID: name)
    }

    private func upload(_ path: String, with request: HTTPClientRequest, name: String) async throws {
        guard let size = try await BlobFiles.size(ofFileAt: path) else { throw BlobstoreError("no file at \(path) to upload") }
        // The body is read from the file as it is sent, so each attempt opens the file anew.
        var request = request
        request.body = .stream(FileChunkSequence(path: path), length: .known(size))
        let status = try await perform(request, "upload blob \(name)").status
        guard (200..<300).contains(status.code) else {
            throw BlobstoreError("cannot upload blob \(name): blobstore answered \(status.code)")
        }
    }

    /// Downloads through a pre-signed URL (``SignedBlobURLs``): no credentials are sent. Errors
    /// name the blob by its path, never the URL's signature.
    public func get(signedURL: String, digest: BlobDigest, to path: String) async throws {
        try await download(request(.GET, url: signedURL), name: Self.blobName(signedURL), digest: digest, to: path)
    }

    /// Uploads the file at `path` to a pre-signed `PUT` URL.
    public func put(fileAt path: String, signedURL: String) async throws {
        try await upload(path, with: request(.PUT, url: signedURL), name: Self.blobName(signedURL))
    }

    /// The last path component of a signed URL, without its query (the signature): the blob's id.
    public static func blobName(_ signedURL: String) -> String {
        let path = signedURL.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        return path.split(separator: "/").last.map(String.init) ?? "?"
    }

    public func delete(_ id: String) async throws {
        let status = try await perform(try request(.DELETE, id), "delete blob \(id)").status
        guard (200..<300).contains(status.code) || status == .notFound else {
            throw BlobstoreError("cannot delete blob \(id): blobstore answered \(status.code)")
        }
    }

    /// A transport error in words, without the request (whose headers hold the password).
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return error.description }
        return String(describing: type(of: error)) + ": \(error)"
    }
}

/// The HTTP client blob transfers share. Its pool does not retry connections by itself (a TLS trust
/// failure would otherwise be retried until the connect timeout); `perform` retries what is worth it.
private let blobstoreHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// A file's contents as an async sequence of buffers, opened when iteration starts and closed
/// when it ends, so one request body can be sent more than once.
public struct FileChunkSequence: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let path: String

    public init(path: String) { self.path = path }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        var descriptor: Int32 = -1
        var finished = false

        public mutating func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if descriptor < 0 {
                descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw BlobstoreError("cannot open \(path)") }
            }
            var buffer = ByteBuffer()
            var count = 0
            let descriptor = self.descriptor
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 256 * 1024) { bytes in
                count = read(descriptor, bytes.baseAddress, bytes.count)
                return Swift.max(0, count)
            }
            if count < 0 {
                close(descriptor)
                finished = true
                throw BlobstoreError("cannot read \(path)")
            }
            if count == 0 {
                close(descriptor)
                finished = true
                return nil
            }
            return buffer
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path) }
}

/// A blobstore that is a directory on a filesystem the agent can see.
public struct LocalBlobstoreClient: BlobstoreClient {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    private func path(of id: String) throws -> String {
        guard BlobLayout.isValid(id) else { throw BlobstoreError("invalid blob id '\(id)'") }
        return directory + "/" + BlobLayout.relativePath(of: id)
    }

    public func get(_ id: String, digest: BlobDigest, to destination: String) async throws {
        let source = try path(of: id)
        guard try await BlobFiles.size(ofFileAt: source) != nil else { throw BlobstoreError("blob \(id) not found") }
        _ = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(source)) { handle in
            try await BlobFiles.write(handle.readChunks(), to: destination, expecting: digest, blobID: id)
        }
    }

    public func put(fileAt source: String) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let destination = try path(of: id)
        try await FileSystem.shared.createDirectory(at: FilePath(destination).removingLastComponent(), withIntermediateDirectories: true)
        _ = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(source)) { handle in
            try await BlobFiles.write(handle.readChunks(), to: destination, expecting: nil, blobID: id)
        }
        return id
    }

    public func delete(_ id: String) async throws {
        _ = try await FileSystem.shared.removeItem(at: FilePath(try path(of: id)))
    }
}
