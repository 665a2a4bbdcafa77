/// Where an agent (or any client) finds the director's blobstore: the `blobstore` entry of agent
/// settings, `{"provider": "dav", "options": {"endpoint", "user", "password", "tls": {"cert": {"ca"}}}}`,
/// or `{"provider": "local", "options": {"blobstore_path"}}` for a blobstore on a shared filesystem.
public struct BlobstoreSettings: Codable, Sendable, Equatable {
    public var provider: String
    public var options: Options

    public struct Options: Codable, Sendable, Equatable {
        public var endpoint: String?
        public var user: String?
        public var password: String?
        public var tls: TLS?
        public var blobstorePath: String?

        public struct TLS: Codable, Sendable, Equatable {
            public var cert: Certificate?

            public struct Certificate: Codable, Sendable, Equatable {
                /// PEM of the CA that signed the blobstore's certificate.
                public var ca: String?
            }
        }

        public init(endpoint: String? = nil, user: String? = nil, password: String? = nil, caPEM: String? = nil, blobstorePath: String? = nil) {
            self.endpoint = endpoint
            self.user = user
            self.password = password
            self.tls = caPEM.map { TLS(cert: .init(ca: $0)) }
            self.blobstorePath = blobstorePath
        }

        enum CodingKeys: String, CodingKey {
            case endpoint, user, password, tls
            case blobstorePath = "blobstore_path"
        }
    }

    public init(provider: String, options: Options) {
        self.provider = provider
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        provider = try container.decode(String.self, forKey: .provider)
        options = try container.decodeIfPresent(Options.self, forKey: .options) ?? Options()
    }
}

/// What can go wrong talking to a blobstore. Messages name the blob, never a credential.
public struct BlobstoreError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Fetches and stores blobs by id.
public protocol BlobstoreClient: Sendable {
    /// Downloads blob `id` to `path` (replacing it) and checks it against `digest`; on a mismatch
    /// nothing is left at `path`.
    func get(_ id: String, digest: BlobDigest, to path: String) async throws
    /// Uploads the file at `path` under a new id and returns the id.
    func put(fileAt path: String) async throws -> String
    func delete(_ id: String) async throws
}

extension BlobstoreSettings {
    /// A client for these settings; `dav` and `local` are known.
    public func makeClient() throws -> any BlobstoreClient {
        switch provider {
        case "dav":
            guard let endpoint = options.endpoint else { throw BlobstoreError("blobstore.options.endpoint is required for the dav provider") }
            return try DAVBlobstoreClient(
                endpoint: endpoint, user: options.user, password: options.password, caPEM: options.tls?.cert?.ca)
        case "local":
            guard let path = options.blobstorePath else { throw BlobstoreError("blobstore.options.blobstore_path is required for the local provider") }
            return LocalBlobstoreClient(directory: path)
        default:
            throw BlobstoreError("unsupported blobstore provider '\(provider)' (known: dav, local)")
        }
    }
}

extension BlobstoreSettings {
    /// A client for pre-signed URLs: only the blobstore's CA matters, no credentials are used.
    public func makeSignedURLClient() throws -> DAVBlobstoreClient {
        try DAVBlobstoreClient(endpoint: options.endpoint ?? "https://signed-urls-only", user: nil, password: nil, caPEM: options.tls?.cert?.ca)
    }
}

/// Where blob `id` lives under a blobstore root: `<first byte of sha1(id) in hex>/<id>`, the layout
/// BOSH's DAV client uses, so directories stay small.
public enum BlobLayout {
    public static func relativePath(of id: String) -> String {
        var digest = StreamingDigest(.sha1)
        Array(id.utf8).withUnsafeBytes { digest.update($0) }
        return String(digest.hex().prefix(2)) + "/" + id
    }

    /// Ids are generated UUIDs or digests; anything that could climb out of the root is refused.
    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 200 && !id.hasPrefix(".")
            && id.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }
}
