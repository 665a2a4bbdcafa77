import BosunCore
import Foundation
import TestSupport
import Testing

/// `blobstore.enable_signed_urls`: VMs get no blobstore credentials; every blob they fetch or store
/// goes through a URL the director signed for that blob and verb. Needs root.
@Suite("signed blobstore URLs", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct SignedURLDeployTests {
    typealias Bed = DeployTests.Bed

    @Test("with signed URLs on, VMs hold no blobstore password, yet packages compile, jobs run and logs come back; the agent user is gone")
    func deployWithSignedURLs() async throws {
        try await Bed.with(directorConfig: "blobstore: {enable_signed_urls: true}") { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            let deploy = try await bed.deploy(bed.manifest(instances: 1))
            #expect(deploy.status == 0, "\(deploy.stdout)")
            let instances = try await bed.instances()
            #expect(instances.count == 1 && instances.allSatisfy { $0["process_state"] == "running" }, "\(instances)")

            // The VM's settings name the blobstore and its CA, but carry no user or password.
            let vm = try #require(try await bed.vmCIDs().values.first)
            let settings = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try await bed.inVM(vm, "cat /var/vcap/bosh/settings.json").utf8))
            let options = try #require(settings["env"]?["bosh"]?["blobstores"]?.arrayValue?.first?["options"], "\(settings)")
            #expect(options["endpoint"]?.stringValue?.hasPrefix("https://") == true)
            #expect(options["user"] == nil && options["password"] == nil, "\(options)")

            // The old shared agent password opens nothing any more.
            let password = try String(contentsOfFile: bed.scratch.url.path + "/state/blobstore-agent-password", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let endpoint = try #require(options["endpoint"]?.stringValue)
            let probe = try await BosunBinary.runProgram(
                "/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-u", "agent:" + password, endpoint + "/00/anything"],
                in: bed.scratch.url)
            #expect(probe.stdout == "401", "\(probe.stdout) \(probe.stderr)")

            // Logs travel through a signed upload URL.
            let logs = bed.scratch.url.path + "/logs"
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let fetched = try await bed.succeed(["-d", "greet", "logs", "--dir", logs])
            #expect(fetched.contains("Downloading resource"), "\(fetched)")
            let tarball = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first { $0.hasSuffix(".tgz") })
            let listing = try await BosunBinary.runProgram("/bin/tar", ["-tzf", logs + "/" + tarball], in: bed.scratch.url)
            #expect(listing.stdout.contains("greeter/greeter.stdout.log"), "\(listing.stdout)")
        }
    }
}
