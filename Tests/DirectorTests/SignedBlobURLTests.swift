import Blobstore
import Foundation
import Testing

struct SignedBlobURLTests {
    let urls = SignedBlobURLs(secret: Array("a-secret-only-the-director-has".utf8), endpoint: "https://10.0.0.1:25250/", lifetime: .seconds(600))
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The query of a URL as the server sees it.
    func query(_ url: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in url.split(separator: "?")[1].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            items[parts[0]] = parts[1]
        }
        return items
    }

    func allows(_ verb: String, _ id: String, _ url: String, at time: Date) -> Bool {
        let q = query(url)
        return urls.allows(verb, id, signature: q["st"], signedAt: q["ts"], expires: q["e"], now: time)
    }

    @Test func aURLNamesTheBlobAndCarriesTimesAndAURLSafeSignature() {
        let url = urls.url(.get, "blob-1", now: now)
        #expect(url.hasPrefix("https://10.0.0.1:25250/signed/blob-1?st="))
        let q = query(url)
        #expect(q["ts"] == "1800000000")
        #expect(q["e"] == "1800000600")
        #expect(q["st"]?.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } == true)
    }

    @Test func aSignatureAllowsOnlyItsVerbAndBlobUntilItExpires() {
        let get = urls.url(.get, "blob-1", now: now)
        #expect(allows("GET", "blob-1", get, at: now.addingTimeInterval(599)))
        #expect(allows("HEAD", "blob-1", get, at: now))
        #expect(!allows("PUT", "blob-1", get, at: now))
        #expect(!allows("GET", "blob-2", get, at: now))
        #expect(!allows("GET", "blob-1", get, at: now.addingTimeInterval(601)))

        let put = urls.url(.put, "blob-3", now: now)
        #expect(allows("PUT", "blob-3", put, at: now))
        #expect(!allows("GET", "blob-3", put, at: now))
    }

    @Test func alteredTimesOrAnotherSecretAreRefused() {
        let url = urls.url(.get, "blob-1", now: now)
        let q = query(url)
        // A longer life, the same signature.
        #expect(!urls.allows("GET", "blob-1", signature: q["st"], signedAt: q["ts"], expires: "1900000000", now: now))
        #expect(!urls.allows("GET", "blob-1", signature: nil, signedAt: q["ts"], expires: q["e"], now: now))
        let other = SignedBlobURLs(secret: Array("another".utf8), endpoint: "https://10.0.0.1:25250")
        #expect(!other.allows("GET", "blob-1", signature: q["st"], signedAt: q["ts"], expires: q["e"], now: now))
        // Signed in the future beyond the allowed skew.
        let early = urls.url(.get, "blob-1", now: now.addingTimeInterval(3600))
        #expect(!allows("GET", "blob-1", early, at: now))
    }
}
