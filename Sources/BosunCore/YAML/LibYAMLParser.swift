import CYaml

/// A position in a document, counted from 1 as editors do.
struct YAMLMark: Sendable {
    var line: Int
    var column: Int

    var text: String { "line \(line), column \(column)" }
}

/// The parse events Bosun's tree builder needs, copied out of libyaml's (which it frees).
enum LibYAMLEvent {
    case scalar(ScalarEvent)
    case alias(anchor: String, mark: YAMLMark)
    case collectionStart(CollectionEvent)
    case collectionEnd
    /// `version` is the `%YAML` directive's, when there is one.
    case documentStart(version: (major: Int, minor: Int)?, mark: YAMLMark)
    case documentEnd
    case streamEnd
    /// Stream start: nothing to build.
    case ignored

    struct ScalarEvent {
        var value: String
        var anchor: String?
        var tag: String?
        /// Written without quotes or block indicators, so its meaning comes from resolution.
        var isPlain: Bool
        var mark: YAMLMark
    }

    struct CollectionEvent {
        var isMapping: Bool
        var anchor: String?
        var isFlow: Bool
        var mark: YAMLMark
    }
}

/// Why libyaml stopped: its own words and where.
struct LibYAMLFailure: Error {
    var problem: String
    var context: String?
    /// Where the scanner or parser stopped; nil for reader (encoding) errors, which have `offset`.
    var mark: YAMLMark?
    var offset: Int
}

/// libyaml's event parser (the one Yams vendors, the C library go-yaml v2 was ported from) over a
/// byte buffer the caller keeps alive. Event parsing is iterative, so nesting costs no stack.
struct LibYAMLParser: ~Copyable {
    private let parser: UnsafeMutablePointer<yaml_parser_t>

    /// `input` must not be empty (libyaml wants a real pointer) and must outlive the parser.
    init(_ input: UnsafeBufferPointer<UInt8>) {
        Self.liftLibYAMLNestingLimit()
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, input.count)
    }

    /// libyaml's own nesting limit (a process-wide 1000, counted so that block collections stop one
    /// level early) is lifted once, before any parse, so that `YAMLLimits.maxDepth` alone decides.
    /// Nothing else in the process uses libyaml (Yams' parser is no longer called), and the write
    /// happens inside the one-time initialisation, before any parser reads it.
    private static let nestingLimitLifted: Bool = {
        yaml_set_max_nest_level(Int32.max / 2)
        return true
    }()

    private static func liftLibYAMLNestingLimit() {
        _ = nestingLimitLifted
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    func next() throws(LibYAMLFailure) -> LibYAMLEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw failure() }
        defer { yaml_event_delete(&event) }
        let mark = YAMLMark(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
        switch event.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return .scalar(
                .init(
                    value: value, anchor: Self.string(scalar.anchor), tag: Self.string(scalar.tag),
                    isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE, mark: mark))
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Self.string(event.data.alias.anchor) ?? "", mark: mark)
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return .collectionStart(
                .init(
                    isMapping: false, anchor: Self.string(start.anchor),
                    isFlow: start.style == YAML_FLOW_SEQUENCE_STYLE,
                    mark: mark))
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return .collectionStart(
                .init(
                    isMapping: true, anchor: Self.string(start.anchor), isFlow: start.style == YAML_FLOW_MAPPING_STYLE,
                    mark: mark))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            return .collectionEnd
        case YAML_DOCUMENT_START_EVENT:
            let version = event.data.document_start.version_directive.map {
                (major: Int($0.pointee.major), minor: Int($0.pointee.minor))
            }
            return .documentStart(version: version, mark: mark)
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_STREAM_END_EVENT:
            return .streamEnd
        default:
            return .ignored
        }
    }

    private func failure() -> LibYAMLFailure {
        let state = parser.pointee
        let problem =
            state.problem.map { String(cString: $0) } ?? "cannot parse (libyaml error \(state.error.rawValue))"
        if state.error == YAML_READER_ERROR {
            return LibYAMLFailure(problem: problem, context: nil, mark: nil, offset: state.problem_offset)
        }
        if state.error == YAML_MEMORY_ERROR {
            return LibYAMLFailure(problem: "out of memory", context: nil, mark: nil, offset: 0)
        }
        let mark = YAMLMark(line: state.problem_mark.line + 1, column: state.problem_mark.column + 1)
        return LibYAMLFailure(
            problem: problem, context: state.context.map { String(cString: $0) }, mark: mark,
            offset: state.problem_mark.index)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
