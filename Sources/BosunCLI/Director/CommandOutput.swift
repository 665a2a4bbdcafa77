import BosunCore
import Foundation

/// What a director command prints, in bosh's two forms: text as it goes (lines, aligned tables,
/// "N items", "Succeeded"), or with `--json` one document at the end,
/// `{"Tables": [{"Content", "Header", "Rows", "Notes"}], "Blocks": [], "Lines": [...]}` whose row
/// keys are column titles in snake case ("Started At" → `started_at`).
final class CommandOutput {
    let json: Bool
    private var lines: [String] = []
    private var tables: [JSONValue] = []
    private var blocks: [String] = []

    init(json: Bool) { self.json = json }

    func line(_ text: String) {
        if json { lines.append(text) } else { Self.write(text + "\n") }
    }

    /// Raw text (a config's content, a task's debug log): a block in JSON.
    func block(_ text: String) {
        if json { blocks.append(text) } else { Self.write(text) }
    }

    static func key(_ title: String) -> String {
        var key = ""
        for character in title.lowercased() {
            if character.isLetter || character.isNumber { key.append(character) } else if !key.hasSuffix("_") { key.append("_") }
        }
        while key.hasSuffix("_") { key.removeLast() }
        return key
    }

    func table(_ content: String, columns: [String], rows: [[String]], notes: [String] = []) {
        if json {
            let header = JSONValue.object(Dictionary(uniqueKeysWithValues: columns.map { (Self.key($0), JSONValue.string($0)) }))
            let jsonRows = rows.map { row in
                JSONValue.object(Dictionary(uniqueKeysWithValues: zip(columns, row).map { (Self.key($0.0), JSONValue.string($0.1)) }))
            }
            tables.append([
                "Content": .string(content), "Header": header, "Rows": .array(jsonRows),
                "Notes": notes.isEmpty ? .null : .array(notes.map(JSONValue.string)),
            ])
            return
        }
        var widths = columns.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.split(separator: "\n").map(\.count).max() ?? 0)
            }
        }
        func render(_ cells: [String]) -> String {
            // A multi-line cell (a list) continues on following lines under its column.
            let height = cells.map { $0.split(separator: "\n", omittingEmptySubsequences: false).count }.max() ?? 1
            var out: [String] = []
            for lineIndex in 0..<height {
                let parts = cells.enumerated().map { index, cell -> String in
                    let cellLines = cell.split(separator: "\n", omittingEmptySubsequences: false)
                    let text = lineIndex < cellLines.count ? String(cellLines[lineIndex]) : ""
                    return index == cells.count - 1 ? text : text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }
                out.append(parts.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            return out.joined(separator: "\n")
        }
        Self.write(render(columns) + "\n")
        for row in rows { Self.write(render(row) + "\n") }
        Self.write("\n\(rows.count) \(content)\n")
        for note in notes { Self.write(note + "\n") }
    }

    /// Ends a successful command.
    func succeed() {
        line("")
        line("Succeeded")
        guard json else { return }
        let document: JSONValue = [
            "Tables": .array(tables), "Blocks": .array(blocks.map(JSONValue.string)), "Lines": .array(lines.map(JSONValue.string)),
        ]
        let data = (try? JSONCoding.encoder.encode(document)) ?? Data()
        Self.write(String(decoding: data, as: UTF8.self) + "\n")
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
