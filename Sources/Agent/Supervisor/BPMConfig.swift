import BosunCore

/// A job's `config/bpm.yml` (the parts the supervisor acts on).
struct BPMProcess: Equatable, Sendable {
    var name: String
    var executable: String
    var args: [String] = []
    var env: [String: String] = [:]
    var workdir: String?
    /// `TERM` (default) or `INT`.
    var shutdownSignal: Int32 = SIGTERM
}

enum BPMConfig {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String, job: String) throws(ParseError) -> [BPMProcess] {
        let document: YAMLValue
        do {
            document = try YAMLValue.parse(text, source: "\(job)/config/bpm.yml")
        } catch {
            throw ParseError(description: error.description)
        }
        guard case .array(let items)? = document["processes"] else {
            throw ParseError(description: "\(job)/config/bpm.yml: processes must be a list")
        }
        return try items.enumerated().map { (index, item) throws(ParseError) -> BPMProcess in
            guard let name = item["name"]?.stringValue, let executable = item["executable"]?.stringValue else {
                throw ParseError(description: "\(job)/config/bpm.yml: processes[\(index)] needs name and executable")
            }
            var process = BPMProcess(name: name, executable: executable)
            if case .array(let args)? = item["args"] { process.args = args.map(\.goDisplayString) }
            if case .map(let env)? = item["env"] {
                for (key, value) in env { process.env[key.goDisplayString] = value.goDisplayString }
            }
            process.workdir = item["workdir"]?.stringValue
            if item["shutdown_signal"]?.stringValue == "INT" { process.shutdownSignal = SIGINT }
            return process
        }
    }
}

import Foundation
