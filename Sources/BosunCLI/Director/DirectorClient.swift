import AsyncHTTPClient
import BosunCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Talks to a director the way the bosh CLI does: HTTPS only, the given CA (or the system's),
/// Basic credentials, one connection per request, connection errors retried five times half a
/// second apart, and anything but 200/201/204/206/302 reported with the director's body.
struct DirectorClient: Sendable {
    let target: DirectorTarget
    /// Built once: a `task` polls every half second and must not re-read the CA each time.
    private let tls: TLSConfiguration

    init(target: DirectorTarget) throws(CommandFailure) {
        self.target = target
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca = target.caPEM {
            guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)), !certificates.isEmpty else {
                throw CommandFailure(message: "Parsing CA certificate: expected a PEM CERTIFICATE block")
            }
            tls.trustRoots = .certificates(certificates)
        }
        self.tls = tls
    }

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }

        func json() throws(CommandFailure) -> JSONValue {
            do {
                return try JSONCoding.decoder.decode(JSONValue.self, from: body)
            } catch {
                throw CommandFailure(message: "Director answered with something that is not JSON: '\(text.prefix(200))'")
            }
        }
    }

    static let successes: Set<Int> = [200, 201, 204, 206, 302]

    func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = nil, authenticated: Bool = true,
        headers extra: [(String, String)] = [], accepting: Set<Int> = DirectorClient.successes
    ) async throws(CommandFailure) -> Response {
        let url = target.url + path
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.tlsConfiguration = tls
        request.headers.add(name: "Connection", value: "close")
        if authenticated, let client = target.client {
            let token = Data("\(client):\(target.clientSecret ?? "")".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic " + token)
        }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) } else if method == .POST || method == .PUT {
            request.headers.add(name: "Content-Length", value: "0")
        }
        var attempt = 1
        while true {
            do {
                let response = try await directorHTTPClient.execute(request, timeout: .minutes(30))
                let bytes = try await response.body.collect(upTo: 1 << 30)
                let result = Response(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
                guard accepting.contains(result.status) else {
                    throw CommandFailure(
                        message: "Director responded with non-successful status code '\(result.status)' response '\(result.text)'")
                }
                return result
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                let isTLS = error is NIOSSLError || error is BoringSSLError
                if isTLS || attempt == 5 {
                    throw CommandFailure(message: "Performing request \(method.rawValue) '\(url)': \(Self.describe(error))")
                }
                attempt += 1
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: certificate not trusted (\(error))" }
        return "\(error)"
    }

    func json(_ method: HTTPMethod = .GET, _ path: String, body: Data? = nil, contentType: String? = nil) async throws(CommandFailure) -> JSONValue {
        try await send(method, path, body: body, contentType: contentType).json()
    }

    /// `GET /info`, anonymously or with the credentials.
    func info(authenticated: Bool) async throws(CommandFailure) -> JSONValue {
        try await send(.GET, "/info", authenticated: authenticated).json()
    }

    /// A request that starts a task: the director answers 302 to `/tasks/<id>` (or the task's JSON).
    func startTask(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = nil) async throws(CommandFailure) -> Int {
        let response = try await send(method, path, body: body, contentType: contentType)
        if response.status == 302 {
            guard let location = response.headers["Location"].first, let id = location.split(separator: "/").last.flatMap({ Int($0) }) else {
                throw CommandFailure(message: "Director redirected without a task location")
            }
            return id
        }
        guard case .int(let id)? = try response.json()["id"] else { throw CommandFailure(message: "Director did not start a task") }
        return id
    }
}

/// The CLI's HTTP client. Its pool does not retry connections by itself (it would keep trying a
/// refused port until the request's deadline); `send` retries as bosh does, five times.
private let directorHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    // A task's 302 is read, not followed: the CLI takes the task id from Location.
    configuration.redirectConfiguration = .disallow
    configuration.timeout = .init(connect: .seconds(10), read: .minutes(30))
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()
