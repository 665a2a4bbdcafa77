import Foundation

/// The encoder and decoder the protocol uses: stable key order, so messages (and golden tests) are
/// byte-for-byte reproducible.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder { JSONDecoder() }
}

extension JSONCoding {
    /// A value as JSON text (sorted keys), as the director stores JSON columns and result lines.
    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
