import Blobstore
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The blobstore agents reach (HTTPS, DAV-style `GET`/`HEAD`/`PUT`/`DELETE /<prefix>/<id>`, basic
/// auth). Agents download packages and rendered templates here and upload compiled packages and logs.
/// With signed URLs on, `GET`/`HEAD`/`PUT /signed/<id>?st=…&ts=…&e=…` need no credentials, only a
/// valid, unexpired signature for that verb and blob (``SignedBlobURLs``).
public struct BlobstoreServer: Sendable {
    public let storage: BlobStorage
    /// User → password (the agents' shared `agent` user unless signed URLs replace it).
    public let users: [String: String]
    public let signedURLs: SignedBlobURLs?

    public init(storage: BlobStorage, users: [String: String], signedURLs: SignedBlobURLs? = nil) {
        self.storage = storage
        self.users = users
        self.signedURLs = signedURLs
    }

    /// Builds the server as a Service bound to `host:port` (0 picks a free port, reported through
    /// `onListening`).
    public func application(
        host: String, port: Int, certificateChainPEM: String, privateKeyPEM: String, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol & Service {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        return Application(
            router: router(),
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port), serverName: "bosun-blobstore"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let server = self
        // The same blob routes twice: by signature (no credentials) and by Basic credentials.
        addBlobRoutes(to: router, path: "signed/:id") { request, context, verb in try server.signedPath(request, context, verb) }
        addBlobRoutes(to: router, path: ":prefix/:id", delete: true) { request, context, _ in
            (context.parameters.get("id") ?? "", try server.authorizedPath(request, context))
        }
        return router
    }

    /// `GET`/`HEAD`/`PUT` (and `DELETE` when asked) of one blob; `access` checks the request for
    /// its verb and returns the blob's id and file.
    private func addBlobRoutes(
        to router: Router<BasicRequestContext>, path: RouterPath, delete: Bool = false,
        access: @escaping @Sendable (Request, BasicRequestContext, String) throws -> (id: String, path: String)
    ) {
        let storage = self.storage
        router.get(path) { request, context -> Response in
            let (id, file) = try access(request, context, "GET")
            guard storage.exists(id) else { throw HTTPError(.notFound) }
            return Response(status: .ok, body: try await FileIO().loadFile(path: file, context: context))
        }
        router.head(path) { request, context -> HTTPResponse.Status in
            storage.exists(try access(request, context, "HEAD").id) ? .ok : .notFound
        }
        router.put(path) { request, context -> HTTPResponse.Status in
            let id = try access(request, context, "PUT").id
            let existed = storage.exists(id)
            try await storage.store(request.body, as: id)
            return existed ? .noContent : .created
        }
        if delete {
            router.delete(path) { request, context -> HTTPResponse.Status in
                storage.remove(try access(request, context, "DELETE").id) ? .noContent : .notFound
            }
        }
    }

    /// Checks a signed request's signature for its verb; returns the blob's id and file. A wrong or
    /// expired signature is a 403, as with BOSH's blobstore.
    private func signedPath(_ request: Request, _ context: BasicRequestContext, _ verb: String) throws -> (String, String) {
        guard let signedURLs, let id = context.parameters.get("id"), let path = storage.path(of: id) else {
            throw HTTPError(.notFound)
        }
        let query = request.uri.queryParameters
        guard signedURLs.allows(verb, id, signature: query.get("st"), signedAt: query.get("ts"), expires: query.get("e")) else {
            throw HTTPError(.forbidden)
        }
        return (id, path)
    }

    /// Checks the credentials and that the prefix belongs to the id; returns the blob's file.
    private func authorizedPath(_ request: Request, _ context: BasicRequestContext) throws -> String {
        guard BasicCredentials.user(from: request.headers[.authorization], users: users) != nil else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"bosun-blobstore\""])
        }
        guard let id = context.parameters.get("id"), let path = storage.path(of: id),
            BlobLayout.relativePath(of: id).hasPrefix((context.parameters.get("prefix") ?? "") + "/")
        else { throw HTTPError(.notFound) }
        return path
    }
}
