/// One go-patch operation, as written in an ops file.
public enum PatchOperation: Sendable, Equatable {
    case replace(path: PatchPointer, value: YAMLValue)
    case remove(path: PatchPointer)
    case copy(from: PatchPointer, path: PatchPointer)

    public var path: PatchPointer {
        switch self {
        case .replace(let path, _), .remove(let path), .copy(_, let path): return path
        }
    }

    public func apply(to document: YAMLValue) throws(PatchError) -> YAMLValue {
        var document = document
        try apply(&document)
        return document
    }

    /// Applies in place, so a document that is not shared elsewhere is edited without copying.
    public func apply(_ document: inout YAMLValue) throws(PatchError) {
        switch self {
        case .replace(let path, let value):
            try PatchReplace(pointer: path, value: value).apply(&document, tokenIndex: 1)
        case .remove(let path):
            guard path.tokens.count > 1 else { throw PatchError("Cannot remove entire document") }
            try PatchRemove(pointer: path).apply(&document, tokenIndex: 1)
        case .copy(let from, let path):
            let value = try PatchFind(pointer: from).find(in: document)
            try PatchReplace(pointer: path, value: value).apply(&document, tokenIndex: 1)
        }
    }
}

/// Finds the value at a pointer (`bosh int --path`, `((var.key))`).
public struct PatchFind: Sendable {
    public var pointer: PatchPointer

    public init(pointer: PatchPointer) { self.pointer = pointer }

    public func find(in document: YAMLValue) throws(PatchError) -> YAMLValue {
        var current = document
        let tokens = pointer.tokens
        for i in tokens.indices.dropFirst() {
            let here = pointer.prefix(i + 1)
            switch tokens[i] {
            case .root:
                continue
            case .index, .matching:
                guard case .array(let items) = current else {
                    throw PatchError.typeMismatch(expected: "an array", at: here, found: current)
                }
                if let position = try ArrayPosition.select(tokens[i], in: items, path: here) {
                    current = items[position]
                } else if case .matching(let key, let value, _, _) = tokens[i] {
                    current = [.string(key): .string(value)]  // optional item that is not there
                }
            case .afterLast:
                throw PatchError(
                    "Expected not to find after last index token in path '\(pointer)' (not supported in find operations)")
            case .key(let key, let optional):
                guard case .map(let map) = current else {
                    throw PatchError.typeMismatch(expected: "a map", at: here, found: current)
                }
                if let value = map[.string(key)] {
                    current = value
                } else if !optional {
                    throw PatchError.missingKey(key, at: here, in: map)
                } else if i == tokens.count - 1 {
                    return .null
                } else {
                    switch tokens[i + 1] {
                    case .matching: current = .array([])
                    case .key: current = .map([:])
                    default:
                        throw PatchError(
                            "Expected to find key or matching index token at path '\(pointer.prefix(i + 2))'")
                    }
                }
            }
        }
        return current
    }
}
