import BosunCore
import Foundation
import TestSupport
import Testing

/// Compiled releases: `export-release` compiles a release for a stemcell and downloads it; a
/// director without the source release takes the compiled one and deploys it without compiling,
/// and refuses a stemcell it was not compiled for before touching a VM. Needs root.
@Suite("compiled releases", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct CompiledReleaseTests {
    typealias Bed = DeployTests.Bed

    @Test("export-release packs compiled packages for the stemcell; uploaded in place of the source release it deploys without compiling; another stemcell is refused")
    func exportUploadDeploy() async throws {
        try await Bed.with { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            #expect(try await bed.deploy(bed.manifest(instances: 1)).status == 0)

            // Export: the tarball has the jobs, a compiled package per package, and says for what.
            let exports = bed.scratch.url.path + "/exports"
            try FileManager.default.createDirectory(atPath: exports, withIntermediateDirectories: true)
            let exported = try await bed.succeed(["-d", "greet", "export-release", "dummy/0+dev.1", "ubuntu-jammy/1", "--dir", exports])
            #expect(!exported.contains("Compiling packages"), "already compiled by the deploy: \(exported)")
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: exports).first { $0.hasPrefix("dummy-0+dev.1-ubuntu-jammy-1-") })
            let tarball = exports + "/" + name
            let listing = try await BosunBinary.runProgram("/bin/tar", ["-tzf", tarball], in: bed.scratch.url).stdout
            for member in ["release.MF", "jobs/greeter.tgz", "jobs/checker.tgz", "compiled_packages/greeter.tgz", "compiled_packages/libgreet.tgz"] {
                #expect(listing.contains(member), "\(member) in \(listing)")
            }
            #expect(!listing.contains("./packages/"), "no source packages: \(listing)")
            let manifest = try YAMLValue.parse(
                try await BosunBinary.runProgram("/bin/tar", ["-xzOf", tarball, "./release.MF"], in: bed.scratch.url).stdout, source: "release.MF")
            let compiled = manifest["compiled_packages"]?.arrayValue ?? []
            #expect(compiled.count == 2 && compiled.allSatisfy { $0["stemcell"]?.stringValue == "ubuntu-jammy/1" }, "\(manifest)")
            #expect(compiled.first { $0["name"]?.stringValue == "greeter" }?["dependencies"]?.arrayValue == ["libgreet"])

            // The director has the source and these compiled packages already: nothing to upload.
            #expect(try await bed.succeed(["-n", "upload-release", tarball]).contains("Release 'dummy/0+dev.1' already exists."))

            // A director that has only the compiled release.
            try await bed.succeed(["-n", "-d", "greet", "delete-deployment"])
            try await bed.succeed(["-n", "delete-release", "dummy"])
            let uploaded = try await bed.succeed(["-n", "upload-release", tarball])
            #expect(uploaded.contains("Creating new packages and jobs: dummy/0+dev.1"), "\(uploaded)")
            let inspected = try await bed.succeed(["inspect-release", "dummy/0+dev.1"])
            #expect(inspected.contains("ubuntu-jammy/1") && !inspected.contains("(source)"), "\(inspected)")
            #expect(try await bed.succeed(["-n", "upload-release", tarball]).contains("already exists"))

            let deployed = try await bed.deploy(bed.manifest(instances: 1))
            #expect(deployed.status == 0, "\(deployed.stdout)")
            #expect(!deployed.stdout.contains("Compiling packages"), "\(deployed.stdout)")
            #expect(try await bed.instances().allSatisfy { $0["process_state"] == "running" })
            let vms = try await bed.vmCIDs()

            // A newer stemcell: nothing to compile from, so the deploy stops before any VM is touched.
            let build = try await BosunBinary.runProgram(
                BuiltProduct.path("bosun-local-cpi"), ["build-stemcell", bed.scratch.url.path, "2"], in: bed.scratch.url)
            #expect(build.status == 0, "\(build.stderr)")
            try await bed.succeed(["-n", "upload-stemcell", bed.scratch.url.path + "/bosun-local-stemcell-2.tgz"])
            let refused = try await bed.deploy(bed.manifest(instances: 1))
            #expect(refused.status == 1)
            #expect(
                refused.stdout.contains(
                    "Can't use release 'dummy/0+dev.1' on stemcell 'ubuntu-jammy/2': it references packages without source code that are not compiled for that stemcell"),
                "\(refused.stdout)")
            #expect(try await bed.vmCIDs() == vms)

            try await bed.succeed(["-n", "-d", "greet", "delete-deployment"])
            #expect(try await bed.containers().isEmpty)
        }
    }
}
