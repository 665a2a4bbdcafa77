import BosunCore
import Crypto
import Foundation
import X509
import _CryptoExtras

/// Generates values for `variables:` entries the way BOSH's config server does, so manifests that
/// rely on their shape (`((cert.ca))`, `((key.public_key_fingerprint))`) work unchanged:
///
/// | type | value |
/// |---|---|
/// | `password` | 20 characters of `a-z0-9` (`length` over 10 and `allowed_characters` change it) |
/// | `certificate` | `{ca, certificate, private_key}`, RSA 3072, signed by `ca` or self-signed with `is_ca` |
/// | `rsa` | `{private_key, public_key}`, RSA 2048, PEM |
/// | `ssh` | `{private_key, public_key, public_key_fingerprint}`, RSA 2048, OpenSSH public key, MD5 fingerprint |
/// | `user` | `{username, password}`: `username` from the options or 20 random letters, password as above |
public struct CredentialGenerator: VariableGenerator, Sendable {
    public init() {}

    public struct GenerationError: Error, CustomStringConvertible {
        public var description: String
    }

    public func generate(_ definition: VariableDefinition, lookup: (String) throws -> YAMLValue?) throws -> YAMLValue {
        switch definition.type {
        case "password":
            return .string(try password(definition.options))
        case "certificate":
            return try CertificateGenerator(options: try CertificateOptions(definition.options)).generate(lookup: lookup)
        case "rsa":
            return try rsaKeyPair()
        case "ssh":
            return try sshKeyPair()
        case "user":
            var username = String((0..<20).map { _ in Self.letters.randomElement()! })
            if case .string(let given)? = definition.options["username"], !given.isEmpty { username = given }
            return ["username": .string(username), "password": .string(try password(definition.options))]
        default:
            throw GenerationError(description: "Unsupported variable type '\(definition.type)'")
        }
    }

    static let passwordAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    static let letters = Array("abcdefghijklmnopqrstuvwxyz")

    func password(_ options: YAMLValue) throws -> String {
        var alphabet = Self.passwordAlphabet
        var length = 20
        if case .map = options {
            if case .string(let allowed)? = options["allowed_characters"], !allowed.isEmpty {
                alphabet = Array(allowed)
            }
            switch options["length"] {
            case .int(let requested)?: if requested > 10 { length = requested }
            case nil, .null?: break
            default: throw GenerationError(description: "Failed to generate password, parameters are invalid.")
            }
        }
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    func rsaKeyPair() throws -> YAMLValue {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        return [
            "private_key": .string(PEM.pkcs1PrivateKey(key)),
            "public_key": .string(key.publicKey.pemRepresentation + "\n"),
        ]
    }

    func sshKeyPair() throws -> YAMLValue {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let primitives = try key.publicKey.getKeyPrimitives()
        let blob = SSHWire.rsaPublicKeyBlob(exponent: primitives.publicExponent, modulus: primitives.modulus)
        let fingerprint = Insecure.MD5.hash(data: blob).map { String(format: "%02x", $0) }.joined(separator: ":")
        return [
            "private_key": .string(PEM.pkcs1PrivateKey(key)),
            "public_key": .string("ssh-rsa " + blob.base64EncodedString() + "\n"),
            "public_key_fingerprint": .string(fingerprint),
        ]
    }
}

/// PEM texts in the shapes BOSH stores (PKCS#1 "RSA PRIVATE KEY", trailing newline).
enum PEM {
    static func pkcs1PrivateKey(_ key: _RSA.Signing.PrivateKey) -> String {
        encode(type: "RSA PRIVATE KEY", der: key.derRepresentation)
    }

    static func encode(type: String, der: Data) -> String {
        let body = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(type)-----\n\(body)\n-----END \(type)-----\n"
    }
}

/// The OpenSSH wire encoding of an RSA public key (RFC 4253 §6.6).
enum SSHWire {
    static func rsaPublicKeyBlob(exponent: Data, modulus: Data) -> Data {
        var blob = Data()
        append(string: Data("ssh-rsa".utf8), to: &blob)
        append(mpint: exponent, to: &blob)
        append(mpint: modulus, to: &blob)
        return blob
    }

    private static func append(string: Data, to blob: inout Data) {
        var length = UInt32(string.count).bigEndian
        withUnsafeBytes(of: &length) { blob.append(contentsOf: $0) }
        blob.append(string)
    }

    /// A positive big-endian integer: no leading zero bytes, but one zero byte when the top bit is set.
    private static func append(mpint: Data, to blob: inout Data) {
        var bytes = Data(mpint.drop(while: { $0 == 0 }))
        if let first = bytes.first, first & 0x80 != 0 { bytes.insert(0, at: 0) }
        append(string: bytes, to: &blob)
    }
}
