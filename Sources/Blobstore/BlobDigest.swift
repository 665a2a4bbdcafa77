import Crypto
import NIOCore

/// A blob's expected digest as BOSH writes it: a bare SHA-1 hex string, or a multi-digest such as
/// `sha256:<hex>;sha1:<hex>`. Verification uses the strongest algorithm listed.
public struct BlobDigest: Sendable, Hashable, CustomStringConvertible {
    public enum Algorithm: String, Sendable, CaseIterable, Comparable {
        case sha1, sha256, sha512

        /// Stronger algorithms sort later.
        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        var hexLength: Int {
            switch self {
            case .sha1: 40
            case .sha256: 64
            case .sha512: 128
            }
        }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every digest listed, by algorithm; hex is lowercase.
    public let digests: [Algorithm: String]

    public init(_ text: String) throws(Invalid) {
        var digests: [Algorithm: String] = [:]
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: ":", maxSplits: 1)
            let algorithm: Algorithm
            let hex: Substring
            if pieces.count == 1 {
                (algorithm, hex) = (.sha1, pieces[0])
            } else if let named = Algorithm(rawValue: pieces[0].lowercased()) {
                (algorithm, hex) = (named, pieces[1])
            } else {
                throw Invalid(description: "unknown digest algorithm '\(pieces[0])'")
            }
            guard hex.count == algorithm.hexLength, hex.allSatisfy(\.isHexDigit) else {
                throw Invalid(description: "'\(part)' is not a \(algorithm.rawValue) digest")
            }
            digests[algorithm] = hex.lowercased()
        }
        guard !digests.isEmpty else { throw Invalid(description: "empty digest") }
        self.digests = digests
    }

    public init(sha1 hex: String) {
        digests = [.sha1: hex.lowercased()]
    }

    /// The algorithm a download is checked with.
    public var strongest: Algorithm { digests.keys.max()! }

    public var description: String {
        digests.keys.sorted(by: >).map { $0 == .sha1 && digests.count == 1 ? digests[$0]! : "\($0.rawValue):\(digests[$0]!)" }
            .joined(separator: ";")
    }
}

/// Digests bytes as they stream past, with one algorithm.
public struct StreamingDigest: Sendable {
    private enum State: Sendable {
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    public let algorithm: BlobDigest.Algorithm

    public init(_ algorithm: BlobDigest.Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha1: state = .sha1(Insecure.SHA1())
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha1(var hasher): hasher.update(bufferPointer: bytes); state = .sha1(hasher)
        case .sha256(var hasher): hasher.update(bufferPointer: bytes); state = .sha256(hasher)
        case .sha512(var hasher): hasher.update(bufferPointer: bytes); state = .sha512(hasher)
        }
    }

    /// Lowercase hex of the digest so far.
    public func hex() -> String {
        let bytes: [UInt8]
        switch state {
        case .sha1(let hasher): bytes = Array(hasher.finalize())
        case .sha256(let hasher): bytes = Array(hasher.finalize())
        case .sha512(let hasher): bytes = Array(hasher.finalize())
        }
        return Self.hex(bytes)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
