import Testing

@testable import Director

/// `release.MF` of source and compiled releases, and the errors that name the field.
struct ReleaseManifestTests {
    static let compiled = """
        name: dummy
        version: 0+dev.1
        commit_hash: abc
        jobs:
        - {name: greeter, version: j1, fingerprint: j1, sha1: aa, packages: [greeter]}
        compiled_packages:
        - {name: greeter, version: g1, fingerprint: g1, sha1: bb, stemcell: ubuntu-jammy/1, dependencies: [libgreet]}
        - {name: libgreet, version: l1, fingerprint: l1, sha1: cc, stemcell: ubuntu-jammy/1, dependencies: [libc]}
        - {name: libc, version: c1, fingerprint: c1, sha1: dd, stemcell: ubuntu-jammy/1, dependencies: []}
        """

    @Test func aCompiledReleaseListsItsPackagesWithTheirStemcellAndDependencyClosure() throws {
        let manifest = try ReleaseManifest(text: Self.compiled)
        #expect(manifest.isCompiled)
        #expect(manifest.packages.map(\.name) == ["greeter", "libgreet", "libc"])
        #expect(manifest.packages.allSatisfy { $0.stemcell?.os == "ubuntu-jammy" && $0.stemcell?.version == "1" })
        #expect(manifest.dependencyClosure(of: "greeter").map(\.name) == ["libc", "libgreet"])
        #expect(manifest.dependencyClosure(of: "libc").isEmpty)
    }

    @Test func aCompiledPackageWithoutAStemcellOrWithAnUnknownDependencyIsNamed() {
        let noStemcell = Self.compiled.replacingOccurrences(of: "sha1: dd, stemcell: ubuntu-jammy/1,", with: "sha1: dd,")
        do {
            _ = try ReleaseManifest(text: noStemcell)
            Issue.record("a compiled package without a stemcell was accepted")
        } catch {
            #expect("\(error)".contains("compiled_packages[2].stemcell must be '<os>/<version>'"), "\(error)")
        }
        let unknown = Self.compiled.replacingOccurrences(of: "dependencies: [libc]", with: "dependencies: [libm]")
        do {
            _ = try ReleaseManifest(text: unknown)
            Issue.record("an unknown dependency was accepted")
        } catch {
            #expect("\(error)".contains("package 'libgreet' depends on 'libm', which the release does not have"), "\(error)")
        }
    }
}
