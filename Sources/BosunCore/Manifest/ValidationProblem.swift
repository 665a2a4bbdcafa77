/// One thing wrong with a manifest or config, at a YAML path such as
/// `instance_groups[1] (web).update.canaries`.
public struct ValidationProblem: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Every problem found in a document, reported together so one edit can fix them all.
public struct ManifestValidationError: Error, Sendable, CustomStringConvertible {
    /// What was being read: "deployment manifest", "cloud config", "runtime config".
    public var document: String
    public var problems: [ValidationProblem]

    public var description: String {
        "Invalid \(document) (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Collects problems while a document is read; shared by every node of one read.
final class ProblemLog {
    private(set) var problems: [ValidationProblem] = []

    func add(_ path: String, _ message: String) {
        problems.append(ValidationProblem(path: path, message: message))
    }
}

extension ManifestValidationError {
    /// Parses a document's YAML text; a syntax error becomes the only problem.
    static func parse(_ text: String, document: String) throws(ManifestValidationError) -> YAMLValue {
        do {
            return try YAMLValue.parse(text, source: document)
        } catch {
            throw ManifestValidationError(document: document, problems: [ValidationProblem(path: "", message: error.message)])
        }
    }

    /// Reads a document through `body`, then throws every problem it reported, if any.
    static func reading<T>(_ value: YAMLValue, document: String, _ body: (ManifestNode) -> T)
        throws(ManifestValidationError) -> T
    {
        let log = ProblemLog()
        let root = ManifestNode(root: value, log: log)
        root.map(required: true)
        let result = body(root)
        guard log.problems.isEmpty else { throw ManifestValidationError(document: document, problems: log.problems) }
        return result
    }
}
