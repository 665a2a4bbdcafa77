import AgentProtocol
import Blobstore
import BosunCore
import Foundation
import TestSupport
import Testing

@testable import Director

/// An agent that holds no blobstore credentials, given pre-signed URLs by the director.
extension AgentProcessTests {
    @Test func withSignedURLsAnAgentWithoutCredentialsCompilesAppliesAndShipsLogs() async throws {
        try await withBlobstoreServer(signedURLs: true) { blobstore in
            let urls = try #require(blobstore.signedURLs)
            try await withAgent(blobstore: blobstore.credentialFreeSettings) { client, _, vcap in
                let store = try blobstore.client()  // the test's own uploads, with credentials
                let library = try await Self.upload([("lib/greeting.txt", "hola\n", 0o644)], name: "libgreet", version: "0.9.1", to: store)
                let packaging = "set -e\ncp \"$(dirname ${BOSH_INSTALL_TARGET})/libgreet/lib/greeting.txt\" ${BOSH_INSTALL_TARGET}/greeting\n"
                let source = try await Self.upload([("packaging", packaging, 0o644)], name: "greeter", version: "", to: store)
                let package = CompilePackage(
                    blobstoreID: source.blobstoreID, sha1: source.sha1, name: "greeter", version: "1.0", dependencies: ["libgreet": library])

                // Plain compile_package: the agent has nothing to authenticate with.
                await #expect {
                    _ = try await client.send(.compilePackage(package))
                } throws: { "\($0)".contains("401") }

                var signed = package
                signed.dependencies = urls.signing(package.dependencies)
                let uploadID = UUID().uuidString.lowercased()
                let result = try await client.send(
                    .compilePackageWithSignedURL(signed, sourceURL: urls.url(.get, source.blobstoreID), uploadURL: urls.url(.put, uploadID)))
                #expect(result["result"]?["blobstore_id"]?.stringValue == uploadID)
                let sha1 = try #require(result["result"]?["sha1"]?.stringValue)
                let compiled = try await Self.unpack(uploadID, sha1: sha1, from: store)
                defer { try? FileManager.default.removeItem(atPath: compiled) }
                #expect(try String(contentsOfFile: compiled + "/greeting", encoding: .utf8) == "hola\n")

                // A forged signature is refused, and the error does not repeat the URL's query.
                let forged = urls.url(.get, source.blobstoreID).replacingOccurrences(of: "st=", with: "st=x")
                await #expect {
                    _ = try await client.send(
                        .compilePackageWithSignedURL(signed, sourceURL: forged, uploadURL: urls.url(.put, UUID().uuidString.lowercased())))
                } throws: { "\($0)".contains("403") && !"\($0)".contains("st=") }

                // apply: packages and the rendered templates through the URLs the director adds.
                let greeter = try await Self.upload(
                    [("bin/greet", "#!/bin/sh\necho hello from greeter\n", 0o755)], name: "greeter", version: "1.0", to: store)
                let archive = try await Self.upload(Self.renderedJobs(vcap: vcap), name: "", version: "", to: store)
                let spec = Self.spec(jobs: ["web"], packages: [greeter], archive: archive)
                #expect(try await client.send(urls.signing(.apply(spec))) == "applied")
                #expect(FileManager.default.fileExists(atPath: vcap + "/jobs/web/bin/web_ctl"))
                #expect(FileManager.default.fileExists(atPath: vcap + "/packages/greeter/bin/greet"))

                // fetch_logs: the tarball goes to a PUT URL.
                try FileManager.default.createDirectory(atPath: vcap + "/data/sys/log/web", withIntermediateDirectories: true)
                try "served\n".write(toFile: vcap + "/data/sys/log/web/web.log", atomically: true, encoding: .utf8)
                let logsID = UUID().uuidString.lowercased()
                let logs = try await client.send(.fetchLogsWithSignedURL(uploadURL: urls.url(.put, logsID), logTypes: ["job"], filters: nil))
                #expect(logs["blobstore_id"]?.stringValue == logsID)
                #expect(blobstore.storage.exists(logsID))

                // sync_dns: the records blob through a GET URL.
                let records = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-dns-\(UUID().uuidString)").path
                defer { unlink(records) }
                let document: JSONValue = ["version": 3, "records": [["10.244.0.7", "signed.web.default.shop.bosh"]]]
                try JSONCoding.encoder.encode(document).write(to: URL(fileURLWithPath: records))
                let recordsID = try await store.put(fileAt: records)
                let digest = try await BlobFiles.digest(ofFileAt: records, algorithm: .sha1)
                #expect(try await client.send(.syncDNSWithSignedURL(url: urls.url(.get, recordsID), digest: digest, version: 3)) == "synced")
                let hosts = try String(contentsOfFile: vcap + "/host/etc/hosts", encoding: .utf8)
                #expect(hosts.contains("10.244.0.7 signed.web.default.shop.bosh\n"))
            }
        }
    }
}
