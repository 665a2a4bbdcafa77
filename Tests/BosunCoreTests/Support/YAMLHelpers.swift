@testable import BosunCore

/// Parses test YAML, failing the test on a syntax error.
func yaml(_ text: String) throws -> YAMLValue {
    try YAMLValue.parse(text, source: "test")
}

/// Applies one ops file given as YAML text to a document given as YAML text.
func patch(_ document: String, _ ops: String) throws -> String {
    let opsFile = try OpsFile(parsing: ops, source: "ops.yml")
    return try opsFile.apply(to: try yaml(document)).yamlText()
}
