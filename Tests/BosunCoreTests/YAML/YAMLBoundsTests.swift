import Foundation
import Testing

@testable import BosunCore

/// Hostile or broken documents are refused quickly, without crashing, naming the rule they broke
/// and never echoing what the document holds.
@Suite struct YAMLBoundsTests {
    /// "Billion laughs": nine levels of nine aliases, 9^9 strings once expanded, in 350 bytes (the
    /// corpus file, which go-yaml refuses too).
    static let aliasBomb: String = {
        let file = YAMLv2Oracle.packageRoot.appendingPathComponent(
            "Tests/BosunCoreTests/Fixtures/yaml-corpus/alias-bomb.yml")
        return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }()

    private func parse(_ bytes: [UInt8], source: String = "manifest") throws(YAMLSyntaxError) -> YAMLValue {
        try YAMLValue.parse(bytes: bytes, source: source)
    }

    /// What `body` threw, as printed; nil when it did not throw.
    private func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aliasBombIsRefusedQuicklyNamingTheRule() throws {
        let text = try #require(message { _ = try parse(Array(Self.aliasBomb.utf8)) })
        #expect(text.hasPrefix("manifest: document contains excessive aliasing"))
        #expect(text.contains("line "))
        #expect(!text.contains("lol"))
    }

    @Test func aliasBombIsRefusedThroughTheStringEntryPoint() throws {
        let text = try #require(message { _ = try YAMLValue.parse(Self.aliasBomb, source: "ops.yml") })
        #expect(text.hasPrefix("ops.yml: document contains excessive aliasing"))
    }

    /// Documents nested far deeper than the limit, by how they nest.
    static let deepDocuments: [String: String] = [
        "flow sequences": String(repeating: "[", count: 100_000),
        "flow maps": "x: " + String(repeating: "{a: ", count: 100_000),
        "block sequences": String(repeating: "- ", count: 50_000),
        "block maps": (0..<5_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n") + " v\n",
    ]

    @Test(arguments: ["flow sequences", "flow maps", "block sequences", "block maps"])
    func deepNestingIsRefusedWithoutCrashing(kind: String) throws {
        let document = try #require(Self.deepDocuments[kind])
        let text = try #require(message { _ = try parse(Array(document.utf8)) }, "\(kind)")
        #expect(text.contains("document nests deeper than 1000 levels at line "), "\(kind): \(text)")
    }

    /// `depth` collections, each the only item of the one around it, flow or block style.
    private static func nested(_ depth: Int, flow: Bool) -> String {
        if flow { return String(repeating: "[", count: depth) + "x" + String(repeating: "]", count: depth) }
        return (0..<depth).map { String(repeating: " ", count: $0) + "- " }.joined(separator: "\n") + "x\n"
    }

    @Test(arguments: [true, false])
    func nestingUpToTheLimitIsRead(flow: Bool) throws {
        var value = try parse(Array(Self.nested(1000, flow: flow).utf8))
        var levels = 0
        while case .array(let items) = value, let first = items.first {
            levels += 1
            value = first
        }
        #expect(levels == 1000)
        #expect(value == "x")
        let text = try #require(message { _ = try parse(Array(Self.nested(1001, flow: flow).utf8)) })
        #expect(text.hasPrefix("manifest: document nests deeper than 1000 levels at line "), "\(text)")
    }

    @Test func depthLimitIsAdjustable() throws {
        let limits = YAMLLimits(maxDepth: 3)
        #expect(try YAMLValue.parse("a: {b: [1]}", limits: limits) == ["a": ["b": [1]]])
        #expect(throws: YAMLSyntaxError.self) { _ = try YAMLValue.parse("a: {b: [[1]]}", limits: limits) }
    }

    @Test func sizeLimitIsAdjustable() throws {
        let limits = YAMLLimits(maxDocumentBytes: 10)
        #expect(try YAMLValue.parse("a: 1234567", limits: limits) == ["a": 1_234_567])
        #expect {
            _ = try YAMLValue.parse("a: 12345678", source: "m", limits: limits)
        } throws: { error in
            "\(error)" == "m: document is 0.0 MiB (11 bytes), over the 10 bytes limit"
        }
    }

    @Test func oversizedDocumentIsRefusedBeforeParsing() throws {
        var bytes = Array("a: \"".utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: 64 << 20))
        bytes.append(contentsOf: Array("\"\n".utf8))
        let text = try #require(message { _ = try parse(bytes) })
        #expect(text.hasPrefix("manifest: document is 64.0 MiB"), "\(text)")
        #expect(text.contains("over the 64 MiB limit"), "\(text)")
    }

    @Test(arguments: [
        ([UInt8]("name: a\npassword: ".utf8) + [0xFF] + [UInt8]("\n".utf8), "invalid leading UTF-8 octet", 2, 11, 18),
        ([UInt8]("a: b\nc: d\ne: \u{e9}".utf8) + [0xC3, 0x28], "invalid trailing UTF-8 octet", 3, 5, 15),
        ([UInt8]("k: v\n".utf8) + [0xC3], "incomplete UTF-8 octet sequence", 2, 1, 5),
    ])
    func invalidUTF8IsRefusedWithItsPosition(
        bytes: [UInt8], problem: String, line: Int, column: Int, offset: Int
    ) throws {
        let text = try #require(message { _ = try parse(bytes, source: "vars.yml") })
        #expect(
            text == "vars.yml: \(problem) at line \(line), column \(column) (byte offset \(offset))", "\(text)")
    }

    @Test func twentyMegabyteDocumentParses() throws {
        var text = "instance_groups:\n"
        text.reserveCapacity(21 << 20)
        var groups = 0
        while text.utf8.count < 20 << 20 {
            text += """
                - name: group-\(groups)
                  instances: \(groups % 7)
                  networks: [{name: default, static_ips: [10.0.\(groups % 250).1, 10.0.\(groups % 250).2]}]
                  jobs:
                  - name: job
                    release: release
                    properties: {port: 8080, enabled: true, ratio: 0.5, motd: "hello, world"}

                """
            groups += 1
        }
        let value = try parse(Array(text.utf8))
        #expect(value["instance_groups"]?.arrayValue?.count == groups)
        #expect(value["instance_groups"]?.arrayValue?.last?["name"] == .string("group-\(groups - 1)"))
    }

    @Test func integersAboveInt64MaxStayExact() throws {
        let value = try parse(Array("a: 18446744073709551615\nb: 9223372036854775808\n".utf8))
        #expect(value.yamlText() == "a: 18446744073709551615\nb: 9223372036854775808\n")
    }

    @Test func plainKeysKeepTheirTypes() throws {
        let value = try parse(Array("10: a\ntrue: b\n1.5: c\n~: d\nname: e\n".utf8))
        #expect(value == [10: "a", true: "b", 1.5: "c", nil: "d", "name": "e"])
    }

    @Test func mergeKeysAreApplied() throws {
        let value = try parse(Array("base: &base {a: 1, b: 2}\nm:\n  <<: *base\n  b: 3\n".utf8))
        #expect(value["m"] == ["a": 1, "b": 3])
    }
}

@Suite struct YAMLByteEntryPointTests {
    static let invalid: [UInt8] = Array("name: a\nsecret: ".utf8) + [0xFF] + Array("\n".utf8)

    @Test func manifestTemplateRefusesInvalidUTF8() {
        #expect {
            _ = try ManifestTemplate(parsing: Self.invalid, source: "m.yml")
        } throws: { error in
            "\(error)" == "m.yml: invalid leading UTF-8 octet at line 2, column 9 (byte offset 16)"
        }
    }

    @Test func opsFileRefusesInvalidUTF8() {
        #expect {
            _ = try OpsFile(parsing: Self.invalid, source: "ops.yml")
        } throws: { error in
            "\(error)".hasSuffix("invalid leading UTF-8 octet at line 2, column 9 (byte offset 16)")
        }
    }

    @Test func bytesFromANonContiguousCollectionParse() throws {
        let bytes = Array("a: [1, 2]\n".utf8).lazy.map { $0 }
        #expect(try YAMLValue.parse(bytes: bytes) == ["a": [1, 2]])
    }
}

@Suite struct VarsFileBytesTests {
    @Test func varsFileFromBytesRefusesInvalidUTF8() {
        #expect {
            _ = try StaticVariables(parsingVarsFile: YAMLByteEntryPointTests.invalid, source: "vars.yml")
        } throws: { error in
            "\(error)" == "vars.yml: invalid leading UTF-8 octet at line 2, column 9 (byte offset 16)"
        }
    }

    @Test func varsFileFromBytesReadsAMap() throws {
        let vars = try StaticVariables(parsingVarsFile: Array("a: 1\nb: [x]\n".utf8), source: "vars.yml")
        #expect(vars.values == ["a": 1, "b": ["x"]])
    }
}
