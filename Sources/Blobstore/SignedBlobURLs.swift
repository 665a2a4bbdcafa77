import Crypto
import Foundation

/// Pre-signed blobstore URLs, BOSH's DAV format: `<endpoint>/signed/<id>?st=<signature>&ts=<signed
/// at>&e=<expires at>`, the signature an HMAC-SHA256 over `<VERB><id><ts><e>` (Unix seconds) with a
/// secret only the director and its blobstore hold, in unpadded URL-safe base64. An agent given such
/// a URL can fetch or store that one blob, with that one verb, until it expires — and needs no
/// blobstore credentials at all.
public struct SignedBlobURLs: Sendable {
    private let key: SymmetricKey
    public let endpoint: String
    public let lifetime: Duration

    public init(secret: [UInt8], endpoint: String, lifetime: Duration = .seconds(3600)) {
        key = SymmetricKey(data: secret)
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.lifetime = lifetime
    }

    public enum Verb: String, Sendable {
        case get = "GET", put = "PUT"
    }

    public func url(_ verb: Verb, _ id: String, now: Date = Date()) -> String {
        let signedAt = Int(now.timeIntervalSince1970)
        let expires = signedAt + Int(lifetime.components.seconds)
        return endpoint + "/signed/" + id + "?st=" + signature(verb.rawValue, id, signedAt, expires) + "&ts=\(signedAt)&e=\(expires)"
    }

    /// A new blob id with the URL an agent stores it at.
    public func newUpload(now: Date = Date()) -> (id: String, url: String) {
        let id = UUID().uuidString.lowercased()
        return (id, url(.put, id, now: now))
    }

    /// Whether the query of a request for `/signed/<id>` allows `verb` now. HEAD is allowed by a
    /// GET signature.
    public func allows(_ verb: String, _ id: String, signature: String?, signedAt: String?, expires: String?, now: Date = Date()) -> Bool {
        guard let signature, let signedAt = signedAt.flatMap(Int.init), let expires = expires.flatMap(Int.init) else { return false }
        let current = Int(now.timeIntervalSince1970)
        // A minute of clock skew for the signing time; none for the expiry.
        guard expires >= current, signedAt <= current + 60, expires > signedAt else { return false }
        let expected = self.signature(verb == "HEAD" ? "GET" : verb, id, signedAt, expires)
        return Self.constantTimeEqual(Array(expected.utf8), Array(signature.utf8))
    }

    private func signature(_ verb: String, _ id: String, _ signedAt: Int, _ expires: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(verb)\(id)\(signedAt)\(expires)".utf8), using: key)
        return Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
