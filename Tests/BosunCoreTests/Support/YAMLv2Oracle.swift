import Foundation

/// Builds and runs the go-yaml v2.4 round-trip program in `Tests/Oracle`: the printer `bosh int`
/// uses, from Debian's `golang-gopkg-yaml.v2-dev`. Differential tests compare Bosun's output with it.
enum YAMLv2Oracle {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Builds the oracle once per test process.
    static let binary: Result<URL, Unavailable> = {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-yamlv2-oracle-\(getpid())")
        let source = packageRoot.appendingPathComponent("Tests/Oracle/yamlv2-roundtrip/main.go").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["go", "build", "-o", output.path, source]
        var environment = ProcessInfo.processInfo.environment
        environment["GOPATH"] = "/usr/share/gocode"
        environment["GO111MODULE"] = "off"
        environment["GOCACHE"] = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-gocache").path
        environment["GOFLAGS"] = "-mod=mod"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .failure(
                Unavailable(description: "cannot run go (install golang-go and golang-gopkg-yaml.v2-dev): \(error)"))
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(Unavailable(description: "building the yaml.v2 oracle failed: \(message)"))
        }
        return .success(output)
    }()

    /// go-yaml's refusal of a document: `yaml: line 3: did not find expected key`.
    struct Refusal: Error, CustomStringConvertible {
        var text: String
        var description: String { text }

        /// The message without go-yaml's `yaml: ` and `line N: ` prefixes, which Bosun words its own way.
        var reason: String {
            var rest = Substring(text)
            if rest.hasPrefix("yaml: ") { rest = rest.dropFirst("yaml: ".count) }
            if rest.hasPrefix("line "), let colon = rest.firstIndex(of: ":"),
                rest[rest.index(rest.startIndex, offsetBy: 5)..<colon].allSatisfy(\.isNumber)
            {
                rest = rest[rest.index(after: colon)...].drop(while: { $0 == " " })
            }
            // go-yaml dumps a rejected key in Go syntax (`[]interface {}{"a", "b"}`); Bosun names it its own way.
            if rest.hasPrefix("invalid map key: ") { return "invalid map key: " }
            // `cannot decode !!str `abc` as a !!int`: Bosun leaves the text out, it may be a secret.
            if rest.hasPrefix("cannot decode "), let tick = rest.firstIndex(of: "`"),
                let end = rest[rest.index(after: tick)...].firstIndex(of: "`")
            {
                return String(rest[..<tick]) + rest[rest.index(end, offsetBy: 2)...]
            }
            return String(rest)
        }
    }

    /// Round-trips each file through go-yaml v2: its printed text, or its error when it rejected the file.
    static func roundTrip(_ files: [URL]) throws -> [Result<String, Refusal>] {
        let binary = try binary.get()
        let process = Process()
        process.executableURL = binary
        process.arguments = files.map(\.path)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        var results = text.components(separatedBy: "\u{1e}\n")
        results.removeLast()  // after the final separator
        return results.map { result in
            guard result.hasPrefix("ERROR: ") else { return .success(result) }
            let message = result.dropFirst("ERROR: ".count).trimmingCharacters(in: .newlines)
            return .failure(Refusal(text: message))
        }
    }
}
