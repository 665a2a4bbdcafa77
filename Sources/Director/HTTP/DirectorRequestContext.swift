import BosunCore
import Foundation
import Hummingbird
import NIOCore

/// Per-request state: who is asking (set by `BasicAuthentication`).
public struct DirectorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var user: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        user = nil
    }

    /// Release and stemcell tarballs are uploaded as one body.
    public var maxUploadSize: Int { 10 << 30 }
}

/// An error the director answers with BOSH's body, `{"code": N, "description": "…"}`.
public struct DirectorError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// BOSH's numeric error code (e.g. 70000 deployment not found, 440001 config invalid).
    public var code: Int
    public var description: String

    public init(_ status: HTTPResponse.Status, code: Int, _ description: String) {
        self.status = status
        self.code = code
        self.description = description
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(["code": .int(code), "description": .string(description)], status: status)
    }
}

extension Response {
    /// The 302 the CLI follows to poll a task it started.
    static func redirect(to task: TaskRecord) -> Response {
        Response(status: .found, headers: [.location: "/tasks/\(task.id!)"])
    }

    /// A JSON body written as the contract wants it (`null` kept, keys sorted).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONCoding.encoder.encode(value)) ?? Data("null".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Reads Basic credentials on every request and sets `context.user` when they are right; every
/// route but `GET /info` then needs a user, else 401 with BOSH's `WWW-Authenticate` and body.
struct BasicAuthentication: RouterMiddleware {
    typealias Context = DirectorRequestContext
    let users: [String: String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.user = user(from: request)
        if context.user == nil && request.uri.path != "/info" {
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: "Basic realm=\"BOSH Director\"", .contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "Not authorized: '\(request.uri.path)'\n")))
        }
        return try await next(request, context)
    }

    private func user(from request: Request) -> String? {
        BasicCredentials.user(from: request.headers[.authorization], users: users)
    }
}
