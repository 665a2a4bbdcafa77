import AsyncHTTPClient
import BosunCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TestSupport

/// A plain HTTPS client for route tests: trusts only the director's CA and checks its hostname,
/// as the `bosh` CLI does.
struct DirectorHTTPClient {
    let director: RunningDirector

    struct Reply {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: String
        var json: JSONValue? { try? JSONCoding.decoder.decode(JSONValue.self, from: Data(body.utf8)) }
    }

    func send(
        _ method: HTTPMethod = .GET, _ path: String, user: String? = "admin", password: String? = nil, body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: director.url + path)
        request.method = method
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(director.caPEM.utf8)))
        request.tlsConfiguration = tls
        request.headers.add(name: "Connection", value: "close")
        if let user {
            let secret = password ?? director.identity.users[user] ?? ""
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(secret)".utf8).base64EncodedString())
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: response.status, headers: response.headers, body: String(buffer: bytes))
    }
}
