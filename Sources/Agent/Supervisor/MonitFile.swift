/// The subset of monit's control file that BOSH releases use:
///
/// ```
/// check process greeter
///   with pidfile /var/vcap/sys/run/greeter/greeter.pid
///   start program "/var/vcap/jobs/greeter/bin/ctl start" with timeout 60 seconds
///   stop program "/var/vcap/jobs/greeter/bin/ctl stop"
///   group vcap
///   depends on other_process
/// ```
struct MonitProcess: Equatable, Sendable {
    var name: String
    var pidfile: String?
    var startProgram: String?
    var stopProgram: String?
    var startTimeoutSeconds: Int = 30
    var groups: [String] = []
    var dependsOn: [String] = []
}

enum MonitFile {
    struct ParseError: Error, CustomStringConvertible, Equatable {
        var description: String
    }

    static func parse(_ text: String, file: String = "monit") throws(ParseError) -> [MonitProcess] {
        var processes: [MonitProcess] = []
        var tokens = tokenize(text)
        func fail(_ message: String) -> ParseError { ParseError(description: "\(file): \(message)") }
        while !tokens.isEmpty {
            let word = tokens.removeFirst()
            switch word.lowercased() {
            case "check":
                guard tokens.count >= 2, tokens[0].lowercased() == "process" else {
                    throw fail("expected 'check process <name>'")
                }
                tokens.removeFirst()
                processes.append(MonitProcess(name: tokens.removeFirst()))
            case "with", "and", "using":
                continue
            case "pidfile":
                guard !processes.isEmpty, !tokens.isEmpty else { throw fail("'pidfile' outside a 'check process'") }
                processes[processes.count - 1].pidfile = tokens.removeFirst()
            case "start", "stop":
                guard !processes.isEmpty else { throw fail("'\(word)' outside a 'check process'") }
                if tokens.first?.lowercased() == "program" { tokens.removeFirst() }
                if tokens.first == "=" { tokens.removeFirst() }
                guard !tokens.isEmpty else { throw fail("'\(word) program' needs a command") }
                let command = tokens.removeFirst()
                if word.lowercased() == "start" {
                    processes[processes.count - 1].startProgram = command
                } else {
                    processes[processes.count - 1].stopProgram = command
                }
                // Optional "with timeout N seconds".
                if tokens.count >= 3, tokens[0].lowercased() == "with", tokens[1].lowercased() == "timeout", let seconds = Int(tokens[2]) {
                    tokens.removeFirst(3)
                    if tokens.first?.lowercased().hasPrefix("second") == true { tokens.removeFirst() }
                    if word.lowercased() == "start" { processes[processes.count - 1].startTimeoutSeconds = seconds }
                }
            case "group":
                guard !processes.isEmpty, !tokens.isEmpty else { throw fail("'group' outside a 'check process'") }
                processes[processes.count - 1].groups.append(tokens.removeFirst())
            case "depends":
                guard !processes.isEmpty else { throw fail("'depends on' outside a 'check process'") }
                if tokens.first?.lowercased() == "on" { tokens.removeFirst() }
                while let next = tokens.first, next != "," && !Self.keywords.contains(next.lowercased()) {
                    processes[processes.count - 1].dependsOn.append(tokens.removeFirst().trimmingCharacters(in: [","]))
                    if tokens.first == "," { tokens.removeFirst() }
                }
            default:
                // Resource tests (`if totalmem > …`) and other statements releases use are ignored.
                continue
            }
        }
        return processes
    }

    private static let keywords: Set<String> = ["check", "with", "start", "stop", "group", "depends", "if", "pidfile", "mode"]

    /// Words, with double-quoted strings as one token and `#` comments dropped.
    private static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            var current = ""
            var quoted = false
            for character in line {
                if character == "\"" {
                    if quoted {
                        tokens.append(current)
                        current = ""
                    }
                    quoted.toggle()
                } else if !quoted && (character == " " || character == "\t") {
                    if !current.isEmpty {
                        tokens.append(current)
                        current = ""
                    }
                } else {
                    current.append(character)
                }
            }
            if !current.isEmpty { tokens.append(current) }
        }
        return tokens
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}

/// `depends on` order: a process starts after those it depends on (cycles keep file order).
enum MonitOrder {
    static func sorted(_ processes: [MonitProcess]) -> [MonitProcess] {
        var done: [String] = []
        var visiting: Set<String> = []
        let byName = Dictionary(processes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func visit(_ process: MonitProcess) {
            guard !done.contains(process.name), !visiting.contains(process.name) else { return }
            visiting.insert(process.name)
            for dependency in process.dependsOn { if let other = byName[dependency] { visit(other) } }
            visiting.remove(process.name)
            done.append(process.name)
        }
        processes.forEach(visit)
        return done.compactMap { byName[$0] }
    }
}
