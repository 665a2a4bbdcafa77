import BosunCore
import Foundation
import Testing

/// `bosun create-release` against what the official CLI built from the same source.
@Suite struct CreateReleaseTests {
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/releases")
    }

    @Test("fingerprints equal the official CLI's; dev versions count up; a tarball uploads as the official one does")
    func fingerprintsMatchTheOfficialCLI() async throws {
        let scratch = try ScratchDirectory()
        let source = scratch.url.path + "/dummy-src"
        try FileManager.default.copyItem(atPath: Self.fixtures.path + "/dummy-src", toPath: source)
        _ = try await BosunBinary.runProgram("/bin/chmod", ["-R", "u+w", source], in: scratch.url)
        let first = try await BosunBinary.runAsync(
            ["create-release", "--dir", source, "--force", "--tarball", scratch.url.path + "/dummy.tgz"], in: scratch.url)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let ours = try YAMLValue.parse(try String(contentsOfFile: source + "/dev_releases/dummy/dummy-0+dev.1.yml", encoding: .utf8), source: "ours")
        let official = try TarballManifestReader.read(Self.fixtures.path + "/dummy-0+dev.1.tgz")
        for kind in ["jobs", "packages"] {
            let mine = Dictionary(uniqueKeysWithValues: (ours[kind]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["fingerprint"]?.stringValue ?? "") })
            let theirs = Dictionary(uniqueKeysWithValues: (official[kind]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["fingerprint"]?.stringValue ?? "") })
            #expect(mine == theirs, "\(kind)")
            #expect(mine.count == 2)
        }
        #expect(try TarballManifestReader.read(scratch.url.path + "/dummy.tgz")["version"] == "0+dev.1")
        let second = try await BosunBinary.runAsync(["create-release", "--dir", source, "--force"], in: scratch.url)
        #expect(second.status == 0)
        #expect(FileManager.default.fileExists(atPath: source + "/dev_releases/dummy/dummy-0+dev.2.yml"))

        // A package whose files pattern matches nothing is refused, naming the pattern.
        try "---\nname: libgreet\ndependencies: []\nfiles:\n- nothing/*\n".write(
            toFile: source + "/packages/libgreet/spec", atomically: true, encoding: .utf8)
        let broken = try await BosunBinary.runAsync(["create-release", "--dir", source, "--force"], in: scratch.url)
        #expect(broken.status == 1)
        #expect((broken.stdout + broken.stderr).contains("missing files for pattern 'nothing/*'"), "\(broken.stdout)\(broken.stderr)")
    }
}

/// Reads `release.MF` out of a release tarball with the system's tar.
enum TarballManifestReader {
    static func read(_ tarball: String) throws -> YAMLValue {
        let result = try BosunBinary.runProgram("/bin/tar", ["-xzOf", tarball, "--wildcards", "*release.MF"], in: URL(fileURLWithPath: "/"))
        return try YAMLValue.parse(result.stdout, source: tarball)
    }
}
