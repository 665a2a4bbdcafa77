/// Builds a `YAMLValue` from libyaml's events with go-yaml v2's decoding rules, using an explicit
/// stack instead of recursion so that nesting depth costs heap, not stack.
///
/// Anchored values are built once and shared by every alias (Swift's copy-on-write), while go-yaml's
/// alias budget is charged as if each alias were expanded; a bomb is refused after reading a few
/// hundred bytes instead of after building billions of nodes.
struct YAMLTreeBuilder {
    let source: String
    let limits: YAMLLimits
    /// The document, to place libyaml's encoding errors (which come as byte offsets).
    private let input: UnsafeBufferPointer<UInt8>

    private var stack: [Frame] = []
    private var anchors: [String: Anchored] = [:]
    private var budget = AliasBudget()
    private var nextFrameID = 0

    init(source: String, limits: YAMLLimits, input: UnsafeBufferPointer<UInt8>) {
        self.source = source
        self.limits = limits
        self.input = input
    }

    private enum Anchored {
        /// The anchored collection is still open: an alias to it would contain itself.
        case building(frameID: Int)
        /// The value, and how many nodes go-yaml decodes for it (aliases inside expanded).
        case built(YAMLValue, size: Int)
    }

    /// An open collection.
    private struct Frame {
        var id: Int
        var isMapping: Bool
        var isFlow: Bool
        /// The value of a `<<` key: its maps are merged into the enclosing mapping.
        var isMergeList: Bool
        var anchor: String?
        var mark: YAMLMark
        /// Nodes go-yaml decodes for this collection so far, itself included.
        var size: Int
        var items: [YAMLValue] = []
        var map = YAMLMap()
        var pending = PendingKey.none
        /// Keys written in this mapping itself, tracked once a merge has added keys that may be
        /// overwritten without being duplicates.
        var explicitKeys: Set<YAMLValue>? = nil
    }

    private enum PendingKey {
        case none
        case key(YAMLValue, YAMLMark)
        case merge
    }

    /// Reads the first document of the stream; an empty stream is `null`.
    mutating func build(_ parser: borrowing LibYAMLParser) throws(YAMLSyntaxError) -> YAMLValue {
        _ = budget.countNode()  // go-yaml counts the document node too
        var root: YAMLValue? = nil
        while true {
            let event: LibYAMLEvent
            do {
                event = try parser.next()
            } catch {
                throw describe(error)
            }
            switch event {
            case .ignored:
                continue
            case .documentStart(let version, let mark):
                // go-yaml reads YAML 1.1 only; libyaml 0.2 also accepts `%YAML 1.2`.
                if let version, version != (1, 1) { throw error("found incompatible YAML document at \(mark.text)") }
            case .documentEnd, .streamEnd:
                return root ?? .null
            case .scalar(let scalar):
                try scalarEvent(scalar, root: &root)
            case .alias(let anchor, let mark):
                try aliasEvent(anchor, mark: mark, root: &root)
            case .collectionStart(let collection):
                try startCollection(collection)
            case .collectionEnd:
                try endCollection(root: &root)
            }
        }
    }

    // MARK: Events

    private mutating func scalarEvent(
        _ scalar: LibYAMLEvent.ScalarEvent, root: inout YAMLValue?
    ) throws(YAMLSyntaxError) {
        if let top = stack.last {
            if scalar.isPlain && top.isFlow { try checkFlowPlainScalar(scalar, in: top) }
            if top.isMapping, case .none = top.pending,
                YAMLScalarDecoding.isMergeKey(scalar.value, tag: scalar.tag, isPlain: scalar.isPlain)
            {
                stack[stack.count - 1].pending = .merge  // go-yaml does not decode (or count) the key
                return
            }
        }
        guard budget.countNode() else { throw excessiveAliasing(at: scalar.mark) }
        let value: YAMLValue
        switch YAMLScalarDecoding.decode(scalar.value, tag: scalar.tag, isPlain: scalar.isPlain) {
        case .success(let decoded): value = decoded
        case .failure(let problem):
            // go-yaml quotes the text here; Bosun does not (it may be a secret).
            throw error("cannot decode \(problem.resolvedTag) as a \(problem.tag) at \(scalar.mark.text)")
        }
        if let anchor = scalar.anchor { anchors[anchor] = .built(value, size: 1) }
        try deliver(value, size: 1, mark: scalar.mark, root: &root)
    }

    private mutating func aliasEvent(_ anchor: String, mark: YAMLMark, root: inout YAMLValue?) throws(YAMLSyntaxError) {
        switch anchors[anchor] {
        case nil:
            throw error("unknown anchor '\(anchor)' referenced at \(mark.text)")
        case .building:
            throw error("anchor '\(anchor)' value contains itself at \(mark.text)")
        case .built(let value, let size):
            guard budget.countNode(), budget.countExpansion(of: size) else { throw excessiveAliasing(at: mark) }
            try deliver(value, size: AliasBudget.saturatingAdd(size, 1), mark: mark, root: &root)
        }
    }

    private mutating func startCollection(_ collection: LibYAMLEvent.CollectionEvent) throws(YAMLSyntaxError) {
        guard stack.count < limits.maxDepth else { throw tooDeep(at: collection.mark) }
        var isMergeList = false
        if let top = stack.last, top.isMapping, case .merge = top.pending, !collection.isMapping {
            isMergeList = true  // go-yaml walks a merge list's items without decoding the list
        } else {
            guard budget.countNode() else { throw excessiveAliasing(at: collection.mark) }
        }
        let id = nextFrameID
        nextFrameID += 1
        if let anchor = collection.anchor { anchors[anchor] = .building(frameID: id) }
        stack.append(
            Frame(
                id: id, isMapping: collection.isMapping, isFlow: collection.isFlow, isMergeList: isMergeList,
                anchor: collection.anchor, mark: collection.mark, size: isMergeList ? 0 : 1))
    }

    private mutating func endCollection(root: inout YAMLValue?) throws(YAMLSyntaxError) {
        let frame = stack.removeLast()
        let value: YAMLValue = frame.isMapping ? .map(frame.map) : .array(frame.items)
        if let anchor = frame.anchor, case .building(frame.id) = anchors[anchor] {
            // A later anchor of the same name inside this collection replaced it, as in go-yaml.
            anchors[anchor] = .built(value, size: frame.isMergeList ? frame.size + 1 : frame.size)
        }
        if frame.isMergeList {
            // Earlier maps in the list win: apply them last.
            for item in frame.items.reversed() {
                guard case .map(let other) = item else { throw mergeNeedsMaps(at: frame.mark) }
                mergeIntoTop(other)
            }
            stack[stack.count - 1].pending = .none
            stack[stack.count - 1].size = AliasBudget.saturatingAdd(stack[stack.count - 1].size, frame.size)
            return
        }
        try deliver(value, size: frame.size, mark: frame.mark, root: &root)
    }

    // MARK: Building

    /// Hands a finished node to its parent (or makes it the document).
    private mutating func deliver(
        _ value: YAMLValue, size: Int, mark: YAMLMark, root: inout YAMLValue?
    ) throws(YAMLSyntaxError) {
        guard !stack.isEmpty else {
            root = value
            return
        }
        let top = stack.count - 1
        stack[top].size = AliasBudget.saturatingAdd(stack[top].size, size)
        guard stack[top].isMapping else {
            stack[top].items.append(value)
            return
        }
        switch stack[top].pending {
        case .none:
            switch value {
            case .array, .map: throw error("invalid map key: \(value.goDisplayString) at \(mark.text)")
            default: stack[top].pending = .key(value, mark)
            }
        case .key(let key, let keyMark):
            stack[top].pending = .none
            try insertExplicit(key, value, at: keyMark)
        case .merge:
            stack[top].pending = .none
            guard case .map(let other) = value else { throw mergeNeedsMaps(at: mark) }
            mergeIntoTop(other)
        }
    }

    /// A key written in the mapping: later merged keys may overwrite it, but writing it twice is
    /// an error (go-yaml lets the last win; Bosun refuses, as it always has).
    private mutating func insertExplicit(
        _ key: YAMLValue, _ value: YAMLValue, at mark: YAMLMark
    ) throws(YAMLSyntaxError) {
        let top = stack.count - 1
        let duplicate: Bool
        if stack[top].explicitKeys != nil {
            duplicate = !stack[top].explicitKeys!.insert(key).inserted
            stack[top].map[key] = value
        } else {
            duplicate = stack[top].map.updateValue(value, forKey: key) != nil
        }
        if duplicate {
            // Keys are named, never values: values may be credentials.
            throw error("duplicate map key '\(key.goDisplayString)' at \(mark.text)")
        }
    }

    /// go-yaml sets merged keys in document order, so a merge overwrites keys written before it
    /// and keys written after it overwrite merged ones.
    private mutating func mergeIntoTop(_ other: YAMLMap) {
        let top = stack.count - 1
        if stack[top].explicitKeys == nil { stack[top].explicitKeys = Set(stack[top].map.keys) }
        for (key, value) in other { stack[top].map[key] = value }
    }

    /// go-yaml's scanner ends a plain scalar at `?` inside flow collections (libyaml 0.2 does not),
    /// which leaves an unexpected key indicator: a syntax error.
    private func checkFlowPlainScalar(_ scalar: LibYAMLEvent.ScalarEvent, in frame: Frame) throws(YAMLSyntaxError) {
        let utf8 = scalar.value.utf8
        guard let question = utf8.firstIndex(of: UInt8(ascii: "?")) else { return }
        var mark = scalar.mark
        let before = scalar.value[..<question]
        if !before.contains(where: \.isNewline) { mark.column += before.unicodeScalars.count }
        let expected = frame.isMapping ? "did not find expected ',' or '}'" : "did not find expected ',' or ']'"
        let context = frame.isMapping ? "while parsing a flow mapping" : "while parsing a flow sequence"
        throw error("\(expected) \(context) at \(mark.text)")
    }

    // MARK: Errors

    private func error(_ message: String) -> YAMLSyntaxError {
        YAMLSyntaxError(source: source, message: message)
    }

    private func excessiveAliasing(at mark: YAMLMark) -> YAMLSyntaxError {
        let percent = Int((AliasBudget.allowedRatio(budget.decoded) * 100).rounded())
        return error(
            "document contains excessive aliasing: aliases expand to \(budget.aliased) of \(budget.decoded) nodes, "
                + "more than the \(percent)% go-yaml allows, at \(mark.text)")
    }

    private func tooDeep(at mark: YAMLMark) -> YAMLSyntaxError {
        error("document nests deeper than \(limits.maxDepth) levels at \(mark.text)")
    }

    private func mergeNeedsMaps(at mark: YAMLMark) -> YAMLSyntaxError {
        error("map merge requires map or sequence of maps as the value at \(mark.text)")
    }

    private func describe(_ failure: LibYAMLFailure) -> YAMLSyntaxError {
        guard let mark = failure.mark else {
            let mark = YAMLByteChecks.mark(of: failure.offset, in: input)
            return error("\(failure.problem) at \(mark.text) (byte offset \(failure.offset))")
        }
        // libyaml's own nesting limit; named as Bosun's, which it matches.
        if failure.problem.hasPrefix("Maximum nesting level reached") { return tooDeep(at: mark) }
        if let context = failure.context { return error("\(failure.problem) \(context) at \(mark.text)") }
        return error("\(failure.problem) at \(mark.text)")
    }
}
