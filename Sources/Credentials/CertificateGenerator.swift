import BosunCore
import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// The `options:` of a `type: certificate` variable.
struct CertificateOptions {
    var commonName = ""
    var organizations: [String] = []
    var alternativeNames: [String] = []
    var isCA = false
    var caName = ""
    var extendedKeyUsage: [String] = []
    /// `key_usage` names; empty means the defaults (CA: key_cert_sign, crl_sign; leaf:
    /// digital_signature, key_encipherment).
    var keyUsage: [String] = []
    var durationDays = 365
    /// RSA modulus bits, as CredHub's `key_length` (2048, 3072 — the default — or 4096).
    var keyLength = 3072

    init(_ options: YAMLValue) throws {
        guard case .map = options else { return }
        commonName = try string(options, "common_name")
        let organization = try string(options, "organization")
        organizations = try strings(options, "organizations")
        if organizations.isEmpty { organizations = [organization.isEmpty ? "Cloud Foundry" : organization] }
        alternativeNames = try strings(options, "alternative_names")
        if case .bool(let b)? = options["is_ca"] { isCA = b }
        caName = try string(options, "ca")
        extendedKeyUsage = try strings(options, "extended_key_usage")
        keyUsage = try strings(options, "key_usage")
        if case .int(let days)? = options["duration"], days > 0 { durationDays = days }
        switch options["key_length"] {
        case nil, .null?: break
        case .int(let bits)? where [2048, 3072, 4096].contains(bits): keyLength = bits
        case let other?:
            throw CredentialGenerator.GenerationError(
                description: "Failed to generate certificate, option 'key_length' must be 2048, 3072 or 4096, found \(other.goDisplayString)")
        }
        if !isCA && caName.isEmpty {
            throw CredentialGenerator.GenerationError(description: "Missing required CA name")
        }
    }

    private func string(_ options: YAMLValue, _ key: String) throws -> String {
        switch options[key] {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case let other?:
            throw CredentialGenerator.GenerationError(
                description: "Failed to generate certificate, option '\(key)' must be a string, found \(other.goTypeName)")
        }
    }

    private func strings(_ options: YAMLValue, _ key: String) throws -> [String] {
        switch options[key] {
        case nil, .null?: return []
        case .array(let items)?:
            return try items.map { item in
                guard case .string(let s) = item else {
                    throw CredentialGenerator.GenerationError(
                        description: "Failed to generate certificate, option '\(key)' must be a list of strings")
                }
                return s
            }
        case let other?:
            throw CredentialGenerator.GenerationError(
                description: "Failed to generate certificate, option '\(key)' must be a list, found \(other.goTypeName)")
        }
    }
}

/// Issues a certificate as BOSH's config server does: subject `C=USA, O=<organizations>, CN=<common_name>`,
/// a CA gets key usage certSign|cRLSign, a leaf keyEncipherment|digitalSignature and `server_auth`
/// unless `extended_key_usage` says otherwise; `alternative_names` become DNS or IP SANs.
struct CertificateGenerator {
    var options: CertificateOptions

    /// CredHub's `key_usage` names.
    static func keyUsage(_ names: [String]) throws -> KeyUsage {
        var usage = KeyUsage()
        for name in names {
            switch name {
            case "digital_signature": usage.digitalSignature = true
            case "non_repudiation": usage.nonRepudiation = true
            case "key_encipherment": usage.keyEncipherment = true
            case "data_encipherment": usage.dataEncipherment = true
            case "key_agreement": usage.keyAgreement = true
            case "key_cert_sign": usage.keyCertSign = true
            case "crl_sign": usage.cRLSign = true
            case "encipher_only": usage.encipherOnly = true
            case "decipher_only": usage.decipherOnly = true
            default: throw CredentialGenerator.GenerationError(description: "Unsupported key usage value: \(name)")
            }
        }
        return usage
    }

    func generate(lookup: (String) throws -> YAMLValue?) throws -> YAMLValue {
        let key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: options.keyLength))
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subjectKeyID = Array(Insecure.SHA1.hash(data: try key.publicKey.getKeyPrimitives().modulus.drop(while: { $0 == 0 })))
        let subject = try DistinguishedName {
            CountryName("USA")
            for organization in options.organizations { OrganizationName(organization) }
            if !options.commonName.isEmpty { CommonName(options.commonName) }
        }

        var signer: (name: DistinguishedName, key: Certificate.PrivateKey, keyID: [UInt8], pem: String)
        if options.caName.isEmpty {
            signer = (subject, Certificate.PrivateKey(key), subjectKeyID, "")
        } else {
            signer = try loadCA(named: options.caName, lookup: lookup)
        }

        var extensions = Certificate.Extensions()
        try extensions.append(.init(SubjectKeyIdentifier(keyIdentifier: subjectKeyID[...]), critical: false))
        try extensions.append(.init(AuthorityKeyIdentifier(keyIdentifier: signer.keyID[...]), critical: false))
        if options.isCA {
            try extensions.append(.init(BasicConstraints.isCertificateAuthority(maxPathLength: nil), critical: true))
            try extensions.append(.init(options.keyUsage.isEmpty ? KeyUsage(keyCertSign: true, cRLSign: true) : try Self.keyUsage(options.keyUsage), critical: true))
        } else {
            try extensions.append(.init(BasicConstraints.notCertificateAuthority, critical: true))
            try extensions.append(
                .init(options.keyUsage.isEmpty ? KeyUsage(digitalSignature: true, keyEncipherment: true) : try Self.keyUsage(options.keyUsage), critical: true))
            var usages: [ExtendedKeyUsage.Usage] = []
            for usage in options.extendedKeyUsage.isEmpty ? ["server_auth"] : options.extendedKeyUsage {
                switch usage {
                case "client_auth": usages.append(.clientAuth)
                case "server_auth": usages.append(.serverAuth)
                case "code_signing": usages.append(.codeSigning)
                case "email_protection": usages.append(.emailProtection)
                case "timestamping": usages.append(.timeStamping)
                default:
                    throw CredentialGenerator.GenerationError(description: "Unsupported extended key usage value: \(usage)")
                }
            }
            try extensions.append(.init(try ExtendedKeyUsage(usages), critical: false))
            if !options.alternativeNames.isEmpty {
                try extensions.append(.init(SubjectAlternativeNames(options.alternativeNames.map(Self.generalName)), critical: false))
            }
        }

        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(bytes: Self.randomSerial()),
            publicKey: publicKey,
            // A minute back: X.509 times are whole seconds, and a certificate used the moment it is
            // made (or by a machine whose clock is a little behind) must already be valid.
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(TimeInterval(options.durationDays) * 86_400),
            issuer: signer.name,
            subject: subject,
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: extensions,
            issuerPrivateKey: signer.key
        )
        let certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        return [
            "ca": .string(options.caName.isEmpty ? certificatePEM : signer.pem),
            "certificate": .string(certificatePEM),
            "private_key": .string(PEM.pkcs1PrivateKey(key)),
        ]
    }

    private func loadCA(named name: String, lookup: (String) throws -> YAMLValue?)
        throws -> (DistinguishedName, Certificate.PrivateKey, [UInt8], String)
    {
        guard let value = try lookup(name), case .string(let certificatePEM)? = value["certificate"],
            case .string(let keyPEM)? = value["private_key"]
        else {
            throw CredentialGenerator.GenerationError(
                description: "Loading certificates: Expected to find variable '\(name)' with a certificate and a private key")
        }
        let ca = try Certificate(pemEncoded: certificatePEM)
        let caKey = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
        let keyID: [UInt8]
        if let identifier = try ca.extensions.subjectKeyIdentifier {
            keyID = Array(identifier.keyIdentifier)
        } else {
            keyID = Array(Insecure.SHA1.hash(data: try caKey.publicKey.getKeyPrimitives().modulus.drop(while: { $0 == 0 })))
        }
        return (ca.subject, Certificate.PrivateKey(caKey), keyID, certificatePEM)
    }

    private static func generalName(_ name: String) -> GeneralName {
        if let address = IPAddressBytes(name) { return .ipAddress(ASN1OctetString(contentBytes: address[...])) }
        return .dnsName(name)
    }

    /// A positive 128-bit serial number.
    private static func randomSerial() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] &= 0x7F
        if bytes[0] == 0 { bytes[0] = 1 }
        return bytes
    }
}

/// Parses dotted IPv4 and colon IPv6 text into network-order bytes.
func IPAddressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
        return withUnsafeBytes(of: &v4) { Array($0) }
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 {
        return withUnsafeBytes(of: &v6) { Array($0) }
    }
    return nil
}
