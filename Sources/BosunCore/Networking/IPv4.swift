/// An IPv4 address.
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Dotted-quad text, strictly: four decimal parts 0–255.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// A CIDR block such as `10.244.0.0/24`.
public struct IPv4Network: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]), (0...32).contains(prefix)
        else { return nil }
        self.address = address
        self.prefixLength = prefix
    }

    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << (32 - UInt32(prefixLength)) }
    public var networkAddress: IPv4Address { IPv4Address(address.value & mask) }
    public var broadcastAddress: IPv4Address { IPv4Address(address.value | ~mask) }
    public var netmask: IPv4Address { IPv4Address(mask) }

    public func contains(_ ip: IPv4Address) -> Bool { ip.value & mask == address.value & mask }

    /// True when the text named the network address itself (`10.0.0.0/24`, not `10.0.0.5/24`).
    public var isCanonical: Bool { address == networkAddress }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// A set of addresses written the way BOSH's `reserved` and `static` lists are: single addresses,
/// ranges `10.0.0.10 - 10.0.0.20`, or CIDR blocks.
public struct IPv4RangeSet: Sendable, Hashable {
    public private(set) var ranges: [ClosedRange<UInt32>] = []

    public init() {}

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public mutating func insert(parsing entry: String) throws(ParseError) {
        let text = entry.trimmingCharacters(in: " ")
        if let dash = text.firstIndex(of: "-") {
            let low = String(text[..<dash]).trimmingCharacters(in: " ")
            let high = String(text[text.index(after: dash)...]).trimmingCharacters(in: " ")
            guard let first = IPv4Address(low), let last = IPv4Address(high) else {
                throw ParseError(description: "invalid IP range \"\(entry)\"")
            }
            guard first <= last else { throw ParseError(description: "IP range \"\(entry)\" starts after it ends") }
            ranges.append(first.value...last.value)
        } else if text.contains("/") {
            guard let network = IPv4Network(text) else { throw ParseError(description: "invalid CIDR \"\(entry)\"") }
            ranges.append(network.networkAddress.value...network.broadcastAddress.value)
        } else {
            guard let ip = IPv4Address(text) else { throw ParseError(description: "invalid IP address \"\(entry)\"") }
            ranges.append(ip.value...ip.value)
        }
    }

    public func contains(_ ip: IPv4Address) -> Bool { ranges.contains { $0.contains(ip.value) } }

    /// Every address, in order (for static pools, which are small).
    public var addresses: [IPv4Address] {
        ranges.flatMap { $0.map(IPv4Address.init) }.sorted()
    }

    public var isEmpty: Bool { ranges.isEmpty }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        Substring(self).trimmingCharacters(in: character)
    }
}
