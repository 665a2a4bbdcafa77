/// An ops file: a YAML list of go-patch operations, applied in order.
///
/// Values may contain `((variables))`; they are inserted as written and interpolated together
/// with the manifest afterwards, exactly as `bosh` does. Paths are never interpolated.
public struct OpsFile: Sendable {
    /// Where the operations came from, for error messages (`operation [2] in ops/scale.yml failed`).
    public var source: String
    public var operations: [PatchOperation]

    public init(source: String, operations: [PatchOperation]) {
        self.source = source
        self.operations = operations
    }

    public struct InvalidError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses an ops file's text.
    public init(parsing text: String, source: String) throws(InvalidError) {
        let document: YAMLValue
        do {
            document = try YAMLValue.parse(text, source: source)
        } catch {
            throw InvalidError(description: "Deserializing ops file '\(source)': \(error.message)")
        }
        try self.init(document: document, source: source)
    }

    /// Parses an ops file's bytes, refusing invalid UTF-8 with its position (see `YAMLValue.parse(bytes:)`).
    public init(parsing bytes: some Collection<UInt8>, source: String) throws(InvalidError) {
        let document: YAMLValue
        do {
            document = try YAMLValue.parse(bytes: bytes, source: source)
        } catch {
            throw InvalidError(description: "Deserializing ops file '\(source)': \(error.message)")
        }
        try self.init(document: document, source: source)
    }

    public init(document: YAMLValue, source: String) throws(InvalidError) {
        self.source = source
        let items: [YAMLValue]
        switch document {
        case .null: items = []
        case .array(let list): items = list
        default:
            throw InvalidError(
                description:
                    "Deserializing ops file '\(source)': expected a list of operations, found \(document.goTypeName)")
        }
        var operations: [PatchOperation] = []
        for (index, item) in items.enumerated() {
            operations.append(try Self.operation(item, index: index, source: source))
        }
        self.operations = operations
    }

    private static func operation(_ item: YAMLValue, index: Int, source: String) throws(InvalidError) -> PatchOperation
    {
        func fail(_ kind: String, _ reason: String) -> InvalidError {
            InvalidError(description: "\(kind) operation [\(index)] in '\(source)': \(reason)")
        }
        guard case .map(let fields) = item else {
            throw InvalidError(
                description:
                    "Deserializing ops file '\(source)': operation [\(index)] is a \(item.goTypeName), expected a map")
        }
        func text(_ key: String) throws(InvalidError) -> String? {
            guard let value = fields[.string(key)], !value.isNull else { return nil }
            guard case .string(let s) = value else {
                throw InvalidError(
                    description:
                        "Deserializing ops file '\(source)': operation [\(index)] field '\(key)' must be a string, found \(value.goTypeName)"
                )
            }
            return s
        }
        func pointer(_ raw: String, kind: String, field: String) throws(InvalidError) -> PatchPointer {
            do {
                return try PatchPointer(parsing: raw)
            } catch {
                throw fail(kind, "Invalid \(field) '\(raw)': \(error.description)")
            }
        }
        let type = try text("type") ?? ""
        let path = try text("path")
        let value = fields[.string("value")].flatMap { $0.isNull ? nil : $0 }
        switch type {
        case "replace":
            guard let path else { throw fail("Replace", "Missing path") }
            guard let value else { throw fail("Replace", "Missing value (path '\(path)')") }
            return .replace(path: try pointer(path, kind: "Replace", field: "path"), value: value)
        case "remove":
            guard let path else { throw fail("Remove", "Missing path") }
            guard value == nil else { throw fail("Remove", "Cannot specify value (path '\(path)')") }
            return .remove(path: try pointer(path, kind: "Remove", field: "path"))
        case "copy":
            guard let path else { throw fail("Copy", "Missing path") }
            guard let from = try text("from") else { throw fail("Copy", "Missing from (path '\(path)')") }
            guard value == nil else { throw fail("Copy", "Cannot specify value (path '\(path)')") }
            return .copy(
                from: try pointer(from, kind: "Copy", field: "from"),
                path: try pointer(path, kind: "Copy", field: "path"))
        default:
            throw InvalidError(
                description: "Unknown operation [\(index)] with type '\(type)' in '\(source)'"
                    + (path.map { " (path '\($0)')" } ?? ""))
        }
    }

    /// Applies every operation in order; the first failure names the operation, the file and the path.
    public func apply(to document: YAMLValue) throws(PatchError) -> YAMLValue {
        var document = document
        try apply(&document)
        return document
    }

    public func apply(_ document: inout YAMLValue) throws(PatchError) {
        for (index, operation) in operations.enumerated() {
            do {
                try operation.apply(&document)
            } catch {
                throw PatchError("Error 'operation [\(index)] in \(source) failed': \(error.description)")
            }
        }
    }
}
