import Foundation

/// HTTP Basic credentials checked against a user table, in time that does not depend on how much
/// of the password was right. Shared by the API and the blobstore.
enum BasicCredentials {
    /// The user an `Authorization: Basic …` header proves, or nil.
    static func user(from header: String?, users: [String: String]) -> String? {
        guard let header, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let name = String(text[..<colon])
        guard let expected = users[name], constantTimeEqual(expected, String(text[text.index(after: colon)...])) else { return nil }
        return name
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}
