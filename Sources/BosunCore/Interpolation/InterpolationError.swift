/// Why a manifest could not be interpolated. Messages name variables and paths but never values:
/// values are secrets.
public struct InterpolationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }

    static func bulletList(_ heading: String, _ names: [String]) -> InterpolationError {
        InterpolationError(heading + ":\n" + names.sorted().map { "    - \($0)" }.joined(separator: "\n"))
    }
}
