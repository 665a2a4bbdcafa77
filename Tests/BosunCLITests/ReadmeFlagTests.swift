import Foundation
import Testing

@testable import BosunCLI

/// The README may only advertise flags that exist: every `--flag` it quotes is one that `bosun`
/// accepts (some command's `--help` lists it), or one of the few it names for other programs.
@Suite struct ReadmeFlagTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Flags the README quotes for programs other than `bosun`, with the source that reads each.
    static let elsewhere: [String: String] = [
        "--state-dir": "Sources/Director/DirectorCommand.swift", "--trim-seconds": "Sources/Agent/AgentCommand.swift",
        "--product": "scripts/quickstart", "--gc-sections": "scripts/build-lean-agent",
    ]

    static func quotedFlags() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var flags = Set<String>()
        for (offset, span) in text.components(separatedBy: "`").enumerated() where offset % 2 == 1 {
            for word in span.split(whereSeparator: { " [](),=|".contains($0) })
            where word.hasPrefix("--") && word.count > 2 {
                flags.insert(String(word))
            }
        }
        return flags
    }

    @Test func everyFlagTheReadmeQuotesExists() throws {
        var accepted = Set<String>()
        for command in BosunCommand.configuration.subcommands {
            let name = command.configuration.commandName ?? ""
            let help = try BosunBinary.run([name, "--help"], in: Self.root).stdout
            for word in help.split(whereSeparator: { " \n,<>=[]".contains($0) }) where word.hasPrefix("--") {
                accepted.insert(String(word))
            }
        }
        #expect(accepted.contains("--dry-run") && accepted.contains("--no-redact"))
        for flag in try Self.quotedFlags() where !accepted.contains(flag) {
            guard let source = Self.elsewhere[flag] else {
                Issue.record("README quotes \(flag), which no bosun command accepts")
                continue
            }
            let text = try String(contentsOf: Self.root.appendingPathComponent(source), encoding: .utf8)
            #expect(text.contains(flag), "README quotes \(flag) for \(source), which does not have it")
        }
    }
}
