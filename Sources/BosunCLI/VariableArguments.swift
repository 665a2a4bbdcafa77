import BosunCore
import Foundation

/// `-v`, `--var-file`, `-l` and `--vars-env`, merged with `bosh`'s precedence: environment, then vars
/// files, then var files, then `-v` — later kinds win, and later flags of a kind win.
struct VariableArguments {
    var vars: [String]
    var varFiles: [String]
    var varsFiles: [String]
    var varsEnv: [String]

    func load(environment: [String: String]) throws(CommandFailure) -> StaticVariables {
        var values: [String: YAMLValue] = [:]
        for prefix in varsEnv {
            guard !prefix.isEmpty else { throw CommandFailure(message: "Expected environment variable prefix to be non-empty") }
            for (name, raw) in environment where name.hasPrefix(prefix + "_") {
                do {
                    values[String(name.dropFirst(prefix.count + 1))] = try YAMLValue.parse(raw, source: name)
                } catch {
                    throw CommandFailure(message: "Deserializing YAML from environment variable '\(name)': \(error.message)")
                }
            }
        }
        for file in varsFiles {
            let text = try InterpolationRequest.read(file, what: "variables file")
            do {
                values.merge(try StaticVariables(parsingVarsFile: text, source: file).values) { $1 }
            } catch {
                throw CommandFailure(message: "Deserializing variables file '\(file)': \(error.message)")
            }
        }
        for argument in varFiles {
            let (name, path) = try Self.split(argument, kind: "var file", valueWord: "path")
            values[name] = .string(try InterpolationRequest.read(path, what: "var file"))
        }
        for argument in vars {
            let (name, raw) = try Self.split(argument, kind: "var", valueWord: "value")
            values[name] = try Self.parseValue(raw, argument: argument)
        }
        return StaticVariables(values)
    }

    /// `-v` values are YAML (so `-v port=80` is a number and `-v list=[a,b]` a list); a value that
    /// reads as a plain string keeps its exact text, minus one pair of wrapping quotes, as in `bosh`.
    static func parseValue(_ raw: String, argument: String) throws(CommandFailure) -> YAMLValue {
        let parsed: YAMLValue
        do {
            parsed = try YAMLValue.parse(raw, source: "var")
        } catch {
            throw CommandFailure(message: "Deserializing variables '\(argument.split(separator: "=").first ?? "")': \(error.message)")
        }
        guard case .string = parsed else { return parsed }
        var text = raw
        if text.count >= 2, let first = text.first, let last = text.last,
            (first == "\"" && last == "\"") || (first == "'" && last == "'")
        {
            text = String(text.dropFirst().dropLast())
        }
        return .string(text)
    }

    static func split(_ argument: String, kind: String, valueWord: String) throws(CommandFailure) -> (String, String) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw CommandFailure(message: "Expected \(kind) '\(Self.nameOnly(argument))' to be in format 'name=\(valueWord)'")
        }
        let name = String(argument[..<equals])
        let value = String(argument[argument.index(after: equals)...])
        guard !name.isEmpty else { throw CommandFailure(message: "Expected \(kind) to specify non-empty name") }
        guard !value.isEmpty else { throw CommandFailure(message: "Expected \(kind) '\(name)' to specify non-empty \(valueWord)") }
        return (name, value)
    }

    /// Never echo a value back: it may be a secret.
    private static func nameOnly(_ argument: String) -> String {
        argument.count > 40 ? String(argument.prefix(40)) + "…" : argument
    }
}

/// The `--json` shape of commands that print a block of text, as the bosh CLI emits it.
enum JSONBlocks {
    static func render(blocks: [String]) -> String {
        struct Output: Encodable {
            var Tables: [String] = []
            var Blocks: [String]
            var Lines: [String] = []
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Output(Blocks: blocks))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
