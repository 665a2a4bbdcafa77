import BosunCore
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import Credentials

@Suite struct CredentialGeneratorTests {
    let generator = CredentialGenerator()

    func generate(_ type: String, _ options: YAMLValue = .null, known: [String: YAMLValue] = [:]) throws -> YAMLValue {
        try generator.generate(VariableDefinition(name: "x", type: type, options: options)) { known[$0] }
    }

    @Test func passwordsAreTwentyLowercaseAlphanumerics() throws {
        let passwords = try (0..<20).map { _ in try generate("password").stringValue! }
        for password in passwords {
            #expect(password.count == 20)
            #expect(password.allSatisfy { CredentialGenerator.passwordAlphabet.contains($0) })
        }
        #expect(Set(passwords).count == passwords.count)
    }

    @Test func passwordLengthAndAlphabetOptions() throws {
        #expect(try generate("password", ["length": 32]).stringValue?.count == 32)
        #expect(try generate("password", ["length": 5]).stringValue?.count == 20)
        #expect(try generate("password", ["length": 12, "allowed_characters": "ab"]).stringValue!.allSatisfy { "ab".contains($0) })
    }

    @Test func certificateAuthorityAndLeafFormAVerifiableChain() throws {
        let ca = try generate("certificate", ["is_ca": true, "common_name": "bosun-ca"])
        let caCert = try Certificate(pemEncoded: ca["certificate"]!.stringValue!)
        #expect(ca["ca"] == ca["certificate"])
        #expect(try caCert.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        #expect(caCert.subject.description.contains("CN=bosun-ca"))
        #expect(caCert.publicKey.isValidSignature(caCert.signature, for: caCert))

        let leaf = try generate(
            "certificate",
            ["ca": "my_ca", "common_name": "web.bosun", "alternative_names": ["web.bosun", "10.244.0.2"],
             "extended_key_usage": ["client_auth", "server_auth"], "duration": 30],
            known: ["my_ca": ca])
        let leafCert = try Certificate(pemEncoded: leaf["certificate"]!.stringValue!)
        #expect(leaf["ca"] == ca["certificate"])
        #expect(leafCert.issuer == caCert.subject)
        #expect(caCert.publicKey.isValidSignature(leafCert.signature, for: leafCert))
        let names = try leafCert.extensions.subjectAlternativeNames.map(Array.init) ?? []
        #expect(names.contains(.dnsName("web.bosun")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 244, 0, 2]))))
        #expect(try leafCert.extensions.extendedKeyUsage.map(Array.init) == [.clientAuth, .serverAuth])
        // Valid for `duration` days from now, and already valid a minute ago (clock skew).
        #expect(abs(leafCert.notValidAfter.timeIntervalSinceNow - 30 * 86_400) < 10)
        #expect(abs(leafCert.notValidBefore.timeIntervalSinceNow + 60) < 10)
        // The private key belongs to the certificate.
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: leaf["private_key"]!.stringValue!)
        #expect(Certificate.PublicKey(key.publicKey) == leafCert.publicKey)
        #expect(leaf["private_key"]!.stringValue!.hasPrefix("-----BEGIN RSA PRIVATE KEY-----\n"))
    }

    @Test func leafWithoutCAIsRefused() {
        #expect(throws: CredentialGenerator.GenerationError.self) { _ = try generate("certificate", ["common_name": "x"]) }
        #expect {
            _ = try generate("certificate", ["ca": "absent"])
        } throws: { error in
            "\(error)".contains("Expected to find variable 'absent' with a certificate")
        }
    }

    @Test func certificateKeyLengthDefaultsTo3072AndTakesCredHubsKeyLength() throws {
        func bits(_ options: YAMLValue) throws -> Int {
            let certificate = try generate("certificate", options)
            return try _RSA.Signing.PrivateKey(pemRepresentation: certificate["private_key"]!.stringValue!).keySizeInBits
        }
        #expect(try bits(["is_ca": true, "common_name": "ca"]) == 3072)
        #expect(try bits(["is_ca": true, "common_name": "ca", "key_length": 2048]) == 2048)
        #expect {
            _ = try generate("certificate", ["is_ca": true, "common_name": "ca", "key_length": 1024])
        } throws: { error in "\(error)".contains("'key_length' must be 2048, 3072 or 4096, found 1024") }
    }

    @Test func rsaKeysArePEMPairs() throws {
        let pair = try generate("rsa")
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: pair["private_key"]!.stringValue!)
        let publicKey = try _RSA.Signing.PublicKey(pemRepresentation: pair["public_key"]!.stringValue!)
        #expect(key.publicKey.derRepresentation == publicKey.derRepresentation)
        #expect(key.keySizeInBits == 2048)
    }

    @Test func sshKeysHaveAuthorizedKeysFormAndMD5Fingerprint() throws {
        let pair = try generate("ssh")
        let publicKey = pair["public_key"]!.stringValue!
        #expect(publicKey.hasPrefix("ssh-rsa AAAAB3NzaC1yc2E"))
        #expect(publicKey.hasSuffix("\n"))
        let blob = Data(base64Encoded: String(publicKey.dropFirst("ssh-rsa ".count).dropLast()))!
        let fingerprint = Insecure.MD5.hash(data: blob).map { String(format: "%02x", $0) }.joined(separator: ":")
        #expect(pair["public_key_fingerprint"]?.stringValue == fingerprint)
        #expect(fingerprint.count == 47)
        // The blob carries the private key's own modulus.
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: pair["private_key"]!.stringValue!)
        let modulus = try key.publicKey.getKeyPrimitives().modulus.drop(while: { $0 == 0 })
        #expect(blob.range(of: Data(modulus)) != nil)
    }

    @Test func unknownTypesAreRefused() {
        #expect(throws: CredentialGenerator.GenerationError.self) { _ = try generate("json") }
    }
}
