/// A YAML text that could not be read, with where it went wrong.
public struct YAMLSyntaxError: Error, CustomStringConvertible, Sendable {
    /// What was being read (a file path or a description such as "manifest").
    public var source: String
    public var message: String

    public var description: String { "\(source): \(message)" }
}

extension YAMLValue {
    /// Parses one YAML document the way go-yaml v2 unmarshals into `interface{}`: merge keys
    /// applied, plain keys and values typed by go-yaml's resolver, integers above `Int.max` kept
    /// exactly as `.uint`, only the first document of a stream read. An empty document is `null`.
    ///
    /// Refuses documents larger or deeper than `limits` and go-yaml's "excessive aliasing", in
    /// time and memory proportional to the document's own size. Errors name the line and never
    /// quote values (they may be credentials); map keys and anchor names may be named.
    public static func parse(
        _ text: String, source: String = "YAML", limits: YAMLLimits = .standard
    ) throws(YAMLSyntaxError) -> YAMLValue {
        var text = text
        // A Swift string is valid UTF-8 already: no check needed.
        let result = text.withUTF8 { bytes in
            Result { () throws(YAMLSyntaxError) in try parseUTF8(bytes, source: source, limits: limits) }
        }
        return try result.get()
    }

    /// Parses a document from its bytes, as `parse(_:source:limits:)` does, refusing invalid
    /// UTF-8 (which decoding into a `String` would silently replace) with its line, column and
    /// byte offset. Readers of files and request bodies should use this one.
    public static func parse(
        bytes: some Collection<UInt8>, source: String = "YAML", limits: YAMLLimits = .standard
    ) throws(YAMLSyntaxError) -> YAMLValue {
        let direct = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(YAMLSyntaxError) in try parseBytes(buffer, source: source, limits: limits) }
        }
        if let direct { return try direct.get() }
        let copy = Array(bytes)
        let result = copy.withUnsafeBufferPointer { buffer in
            Result { () throws(YAMLSyntaxError) in try parseBytes(buffer, source: source, limits: limits) }
        }
        return try result.get()
    }

    /// The text of a document's bytes for readers that keep it as text (to store or interpolate
    /// it): invalid UTF-8 and documents over the size limit are refused as `parse(bytes:)`
    /// refuses them, instead of being decoded with replacement characters.
    public static func text(
        decoding bytes: some Collection<UInt8>, source: String = "YAML", limits: YAMLLimits = .standard
    ) throws(YAMLSyntaxError) -> String {
        let copy = Array(bytes)
        let checked = copy.withUnsafeBufferPointer { buffer in
            Result { () throws(YAMLSyntaxError) in try checkBytes(buffer, source: source, limits: limits) }
        }
        try checked.get()
        return String(decoding: copy, as: UTF8.self)
    }

    private static func parseBytes(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, limits: YAMLLimits
    ) throws(YAMLSyntaxError) -> YAMLValue {
        try checkBytes(bytes, source: source, limits: limits)
        return try parseUTF8(bytes, source: source, limits: limits)
    }

    /// What raw bytes must pass before they are read as text: the size limit (first, so a huge
    /// document is not scanned), then valid UTF-8 unless the document is UTF-16.
    private static func checkBytes(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, limits: YAMLLimits
    ) throws(YAMLSyntaxError) {
        try checkSize(bytes, source: source, limits: limits)
        guard !YAMLByteChecks.isUTF16(bytes), let invalid = YAMLByteChecks.firstInvalidUTF8(bytes) else { return }
        let mark = YAMLByteChecks.mark(of: invalid.offset, in: bytes)
        throw YAMLSyntaxError(
            source: source, message: "\(invalid.problem) at \(mark.text) (byte offset \(invalid.offset))")
    }

    private static func parseUTF8(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, limits: YAMLLimits
    ) throws(YAMLSyntaxError) -> YAMLValue {
        try checkSize(bytes, source: source, limits: limits)
        guard !bytes.isEmpty else { return .null }
        let parser = LibYAMLParser(bytes)
        var builder = YAMLTreeBuilder(source: source, limits: limits, input: bytes)
        return try builder.build(parser)
    }

    private static func checkSize(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, limits: YAMLLimits
    ) throws(YAMLSyntaxError) {
        guard bytes.count > limits.maxDocumentBytes else { return }
        throw YAMLSyntaxError(
            source: source,
            message: "document is \(YAMLByteChecks.mebibytesText(bytes.count)) (\(bytes.count) bytes), over the "
                + "\(YAMLByteChecks.sizeText(limits.maxDocumentBytes)) limit")
    }
}
