import Foundation
import Testing

@testable import BosunCore

/// Bosun must print manifests exactly as `bosh int` does; `bosh` prints with go-yaml v2.4, so every
/// corpus file is printed by both and the texts must be identical.
@Suite struct GoYAMLCompatibilityTests {
    static let corpus: [URL] = {
        let directory = YAMLv2Oracle.packageRoot.appendingPathComponent("Tests/BosunCoreTests/Fixtures/yaml-corpus")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }()

    @Test func corpusIsNotEmpty() {
        #expect(Self.corpus.count >= 5)
    }

    @Test func printsEveryCorpusFileLikeGoYAML() throws {
        let expected = try YAMLv2Oracle.roundTrip(Self.corpus)
        #expect(expected.count == Self.corpus.count)
        for (file, goOutput) in zip(Self.corpus, expected) {
            let text = try String(contentsOf: file, encoding: .utf8)
            guard let goOutput else {
                #expect(throws: YAMLSyntaxError.self, "\(file.lastPathComponent) is rejected by go-yaml") {
                    _ = try YAMLValue.parse(text, source: file.lastPathComponent)
                }
                continue
            }
            let ours = try YAMLValue.parse(text, source: file.lastPathComponent).yamlText()
            #expect(ours == goOutput, "\(file.lastPathComponent) differs:\n--- go-yaml\n\(goOutput)\n--- bosun\n\(ours)")
        }
    }

    @Test(arguments: [
        ("a: 1.0", "a: 1\n"),
        ("a: 1000000.0", "a: 1e+06\n"),
        ("a: \"yes\"", "a: \"yes\"\n"),
        ("a: yes", "a: true\n"),
        ("a: 0777", "a: 511\n"),
        ("a: 2020-01-01", "a: \"2020-01-01\"\n"),
        ("b: [1]\na: {}", "a: {}\nb:\n- 1\n"),
    ])
    func knownGoYAMLQuirks(input: String, output: String) throws {
        #expect(try YAMLValue.parse(input).yamlText() == output)
    }
}

@Suite struct YAMLErrorTests {
    @Test func syntaxErrorsNameTheLineButNeverEchoTheDocument() {
        #expect {
            _ = try YAMLValue.parse("password: hunter2\nlist: [a, b\n", source: "vars.yml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("vars.yml: ") && text.contains("line") && !text.contains("hunter2")
        }
    }

    @Test func duplicateKeysAreAnErrorThatNamesTheKey() {
        #expect {
            _ = try YAMLValue.parse("secret: s3cr3t\nname: a\nname: b\n", source: "m.yml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("m.yml: duplicate map key 'name' at line") && !text.contains("s3cr3t")
        }
    }

    @Test func sameTextDifferentTypesAreDifferentKeys() throws {
        #expect(try YAMLValue.parse("1: int\n\"1\": string\n") == [1: "int", "1": "string"])
    }
}
