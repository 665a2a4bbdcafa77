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
            let bytes = [UInt8](try Data(contentsOf: file))
            let name = file.lastPathComponent
            switch goOutput {
            case .failure(let goError):
                // Same refusal, in Bosun's words around go-yaml's: the reason must be the same.
                #expect(throws: YAMLSyntaxError.self, "\(name) is rejected by go-yaml: \(goError)") {
                    _ = try parseCorpusFile(bytes, source: name)
                }
                do {
                    _ = try parseCorpusFile(bytes, source: name)
                } catch {
                    #expect(
                        error.message.contains(goError.reason),
                        "\(name): go-yaml says \"\(goError.reason)\", Bosun says \"\(error.message)\"")
                }
            case .success(let goText):
                let ours: String
                do {
                    ours = try parseCorpusFile(bytes, source: name).yamlText()
                } catch {
                    Issue.record("\(name): go-yaml reads it, Bosun says \(error)")
                    continue
                }
                #expect(ours == goText, "\(name) differs:\n--- go-yaml\n\(goText)\n--- bosun\n\(ours)")
            }
        }
    }

    /// Corpus files are read as bytes: some are deliberately not valid UTF-8.
    private func parseCorpusFile(_ bytes: [UInt8], source: String) throws(YAMLSyntaxError) -> YAMLValue {
        try YAMLValue.parse(bytes: bytes, source: source)
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
