/// Prints a `YAMLValue` byte for byte as go-yaml v2.4 (`yaml.Marshal`) does, which is what `bosh int`
/// prints: keys sorted, sequences not indented under their key, 80-column folding of long scalars,
/// literal blocks for multi-line strings, and the same quoting decisions.
///
/// It follows the libyaml emitter's state (column, indentation, "whitespace"/"indention" flags)
/// for the subset of events that marshalling produces: block maps and sequences, empty flow
/// collections and untagged scalars.
struct GoYAMLEmitter {
    private(set) var output: [UInt8] = []
    var column = 0
    var indent = -1
    private var indents: [Int] = []
    var whitespace = true
    var indention = true
    var flowLevel = 0
    private let bestIndent = 2
    let bestWidth = 80

    /// Context flags of the node being emitted, as in libyaml.
    private struct Context {
        var sequence = false
        var mapping = false
        var simpleKey = false
    }

    static func emit(_ value: YAMLValue) -> String {
        var emitter = GoYAMLEmitter()
        emitter.emitDocument(value)
        return String(decoding: emitter.output, as: UTF8.self)
    }

    private mutating func emitDocument(_ value: YAMLValue) {
        emitNode(value, Context())
        writeIndent()  // document end; go-yaml clears "open ended" before the stream end, so no "..."
    }

    // MARK: Nodes

    private mutating func emitNode(_ value: YAMLValue, _ context: Context) {
        switch value {
        case .array(let items):
            if items.isEmpty || flowLevel > 0 {
                emitEmptyFlow(open: UInt8(ascii: "["), close: UInt8(ascii: "]"))
            } else {
                emitBlockSequence(items, context)
            }
        case .map(let map):
            if map.isEmpty || flowLevel > 0 {
                emitEmptyFlow(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"))
            } else {
                emitBlockMapping(map, context)
            }
        default:
            let (text, style) = Self.scalarTextAndStyle(value)
            emitScalar(Array(text.utf8), requestedStyle: style, context)
        }
    }

    private mutating func emitEmptyFlow(open: UInt8, close: UInt8) {
        writeIndicator([open], needWhitespace: true, isWhitespace: true, isIndention: false)
        increaseIndent(flow: true, indentless: false)
        flowLevel += 1
        flowLevel -= 1
        indent = indents.removeLast()
        writeIndicator([close], needWhitespace: false, isWhitespace: false, isIndention: false)
    }

    private mutating func emitBlockSequence(_ items: [YAMLValue], _ context: Context) {
        increaseIndent(flow: false, indentless: context.mapping && !indention)
        for item in items {
            writeIndent()
            writeIndicator([UInt8(ascii: "-")], needWhitespace: true, isWhitespace: false, isIndention: true)
            emitNode(item, Context(sequence: true))
        }
        indent = indents.removeLast()
    }

    private mutating func emitBlockMapping(_ map: YAMLMap, _ context: Context) {
        increaseIndent(flow: false, indentless: false)
        for key in GoYAMLKeyOrder.sorted(Array(map.keys)) {
            let value = map[key]!
            writeIndent()
            if isSimpleKey(key) {
                emitNode(key, Context(mapping: true, simpleKey: true))
                writeIndicator([UInt8(ascii: ":")], needWhitespace: false, isWhitespace: false, isIndention: false)
            } else {
                writeIndicator([UInt8(ascii: "?")], needWhitespace: true, isWhitespace: false, isIndention: true)
                emitNode(key, Context(mapping: true))
                writeIndent()
                writeIndicator([UInt8(ascii: ":")], needWhitespace: true, isWhitespace: false, isIndention: true)
            }
            emitNode(value, Context(mapping: true))
        }
        indent = indents.removeLast()
    }

    private func isSimpleKey(_ key: YAMLValue) -> Bool {
        switch key {
        case .array(let a): return a.isEmpty
        case .map(let m): return m.isEmpty
        default:
            let text = Array(Self.scalarTextAndStyle(key).0.utf8)
            let analysis = ScalarAnalysis(text)
            return !analysis.multiline && text.count <= 128
        }
    }

    /// The text go-yaml writes for a scalar and the style its encoder asks for.
    static func scalarTextAndStyle(_ value: YAMLValue) -> (String, ScalarStyle) {
        switch value {
        case .null: return ("null", .plain)
        case .bool(let b): return (b ? "true" : "false", .plain)
        case .int(let i): return (String(i), .plain)
        case .uint(let u): return (String(u), .plain)
        case .float(let d): return (GoFloatFormat.format(d), .plain)
        case .string(let s):
            if s.utf8.contains(UInt8(ascii: "\n")) { return (s, .literal) }
            return (s, GoYAMLResolver.stringCanBePlain(s) ? .plain : .doubleQuoted)
        case .array, .map: return ("", .plain)
        }
    }

    enum ScalarStyle { case plain, singleQuoted, doubleQuoted, literal }

    // MARK: Scalars

    private mutating func emitScalar(_ value: [UInt8], requestedStyle: ScalarStyle, _ context: Context) {
        let analysis = ScalarAnalysis(value)
        var style = requestedStyle
        if context.simpleKey && analysis.multiline { style = .doubleQuoted }
        if style == .plain {
            if (flowLevel > 0 && !analysis.flowPlainAllowed) || (flowLevel == 0 && !analysis.blockPlainAllowed) {
                style = .singleQuoted
            }
            if value.isEmpty && (flowLevel > 0 || context.simpleKey) { style = .singleQuoted }
        }
        if style == .singleQuoted && !analysis.singleQuotedAllowed { style = .doubleQuoted }
        if style == .literal && (!analysis.blockAllowed || flowLevel > 0 || context.simpleKey) {
            style = .doubleQuoted
        }
        increaseIndent(flow: true, indentless: false)
        let allowBreaks = !context.simpleKey
        switch style {
        case .plain: writePlain(value, allowBreaks: allowBreaks)
        case .singleQuoted: writeSingleQuoted(value, allowBreaks: allowBreaks)
        case .doubleQuoted: writeDoubleQuoted(value, allowBreaks: allowBreaks)
        case .literal: writeLiteral(value)
        }
        indent = indents.removeLast()
    }

    // MARK: Low-level writing

    private mutating func increaseIndent(flow: Bool, indentless: Bool) {
        indents.append(indent)
        if indent < 0 {
            indent = flow ? bestIndent : 0
        } else if !indentless {
            indent += bestIndent
        }
    }

    mutating func put(_ byte: UInt8) {
        output.append(byte)
        column += 1
    }

    mutating func putBreak() {
        output.append(UInt8(ascii: "\n"))
        column = 0
    }

    /// Copies one UTF-8 character, counting it as one column.
    mutating func write(_ value: [UInt8], _ i: inout Int) {
        let w = utf8Width(value[i])
        output.append(contentsOf: value[i..<min(i + w, value.count)])
        column += 1
        i += w
    }

    mutating func writeBreak(_ value: [UInt8], _ i: inout Int) {
        if value[i] == UInt8(ascii: "\n") {
            putBreak()
            i += 1
        } else {
            write(value, &i)
            column = 0
        }
    }

    mutating func writeIndent() {
        let target = max(indent, 0)
        if !indention || column > target || (column == target && !whitespace) {
            putBreak()
        }
        while column < target { put(UInt8(ascii: " ")) }
        whitespace = true
        indention = true
    }

    mutating func writeIndicator(_ indicator: [UInt8], needWhitespace: Bool, isWhitespace: Bool, isIndention: Bool) {
        if needWhitespace && !whitespace { put(UInt8(ascii: " ")) }
        var i = 0
        while i < indicator.count { write(indicator, &i) }
        whitespace = isWhitespace
        indention = indention && isIndention
    }

    private mutating func writePlain(_ value: [UInt8], allowBreaks: Bool) {
        if !whitespace { put(UInt8(ascii: " ")) }
        var spaces = false
        var breaks = false
        var i = 0
        while i < value.count {
            if value[i] == UInt8(ascii: " ") {
                if allowBreaks && !spaces && column > bestWidth && !isSpace(value, i + 1) {
                    writeIndent()
                    i += 1
                } else {
                    write(value, &i)
                }
                spaces = true
            } else if isBreak(value, i) {
                if !breaks && value[i] == UInt8(ascii: "\n") { putBreak() }
                writeBreak(value, &i)
                indention = true
                breaks = true
            } else {
                if breaks { writeIndent() }
                write(value, &i)
                indention = false
                spaces = false
                breaks = false
            }
        }
        whitespace = false
        indention = false
    }

    private mutating func writeSingleQuoted(_ value: [UInt8], allowBreaks: Bool) {
        writeIndicator([UInt8(ascii: "'")], needWhitespace: true, isWhitespace: false, isIndention: false)
        var spaces = false
        var breaks = false
        var i = 0
        while i < value.count {
            if value[i] == UInt8(ascii: " ") {
                if allowBreaks && !spaces && column > bestWidth && i > 0 && i < value.count - 1
                    && !isSpace(value, i + 1)
                {
                    writeIndent()
                    i += 1
                } else {
                    write(value, &i)
                }
                spaces = true
            } else if isBreak(value, i) {
                if !breaks && value[i] == UInt8(ascii: "\n") { putBreak() }
                writeBreak(value, &i)
                indention = true
                breaks = true
            } else {
                if breaks { writeIndent() }
                if value[i] == UInt8(ascii: "'") { put(UInt8(ascii: "'")) }
                write(value, &i)
                indention = false
                spaces = false
                breaks = false
            }
        }
        writeIndicator([UInt8(ascii: "'")], needWhitespace: false, isWhitespace: false, isIndention: false)
        whitespace = false
        indention = false
    }

    private mutating func writeLiteral(_ value: [UInt8]) {
        writeIndicator([UInt8(ascii: "|")], needWhitespace: true, isWhitespace: false, isIndention: false)
        writeBlockScalarHints(value)
        putBreak()
        indention = true
        whitespace = true
        var breaks = true
        var i = 0
        while i < value.count {
            if isBreak(value, i) {
                writeBreak(value, &i)
                indention = true
                breaks = true
            } else {
                if breaks { writeIndent() }
                write(value, &i)
                indention = false
                breaks = false
            }
        }
    }

    private mutating func writeBlockScalarHints(_ value: [UInt8]) {
        if isSpace(value, 0) || isBreak(value, 0) {
            writeIndicator(
                [UInt8(ascii: "0") + UInt8(bestIndent)], needWhitespace: false, isWhitespace: false,
                isIndention: false)
        }
        var chomp: UInt8? = nil
        if value.isEmpty {
            chomp = UInt8(ascii: "-")
        } else {
            var i = value.count - 1
            while value[i] & 0xC0 == 0x80 { i -= 1 }
            if !isBreak(value, i) {
                chomp = UInt8(ascii: "-")
            } else if i == 0 {
                chomp = UInt8(ascii: "+")
            } else {
                i -= 1
                while value[i] & 0xC0 == 0x80 { i -= 1 }
                if isBreak(value, i) {
                    chomp = UInt8(ascii: "+")
                }
            }
        }
        if let chomp {
            writeIndicator([chomp], needWhitespace: false, isWhitespace: false, isIndention: false)
        }
    }
}
