/// Why an ops-file operation or a `--path` lookup could not be applied; messages match go-patch's
/// so that operators can search for them as they do for BOSH's.
public struct PatchError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String

    public init(_ description: String) { self.description = description }

    static func typeMismatch(expected: String, at path: PatchPointer, found: YAMLValue) -> PatchError {
        PatchError("Expected to find \(expected) at path '\(path)' but found '\(found.goTypeName)'")
    }

    static func missingKey(_ key: String, at path: PatchPointer, in map: YAMLMap) -> PatchError {
        let siblings: String
        let keys = map.keys.compactMap(\.stringValue).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if map.isEmpty {
            siblings = "found no other map keys"
        } else {
            siblings = "found map keys: '" + keys.joined(separator: "', '") + "'"
        }
        return PatchError("Expected to find a map key '\(key)' for path '\(path)' (\(siblings))")
    }

    static func missingIndex(_ index: Int, length: Int, at path: PatchPointer) -> PatchError {
        PatchError("Expected to find array index '\(index)' but found array of length '\(length)' for path '\(path)'")
    }

    static func notExactlyOneMatch(at path: PatchPointer, found: Int) -> PatchError {
        PatchError("Expected to find exactly one matching array item for path '\(path)' but found \(found)")
    }
}
