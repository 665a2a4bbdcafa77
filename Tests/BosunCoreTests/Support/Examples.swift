import Foundation

/// Files under `examples/`, which the README's quickstart deploys.
enum Examples {
    static let root = YAMLv2Oracle.packageRoot.appendingPathComponent("examples")

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }
}
