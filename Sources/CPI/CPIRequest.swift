/// What the director writes to a CPI executable's standard input: one call, positional arguments.
public struct CPIRequest<Arguments: Encodable & Sendable>: Encodable, Sendable {
    public var method: String
    public var arguments: Arguments
    /// Director UUID, request id and CPI-config properties, merged.
    public var context: [String: String]
    /// The CPI API version the director speaks (2 when the CPI's `info` advertises it).
    public var apiVersion: Int

    public init(method: String, arguments: Arguments, context: [String: String], apiVersion: Int = 2) {
        self.method = method
        self.arguments = arguments
        self.context = context
        self.apiVersion = apiVersion
    }

    enum CodingKeys: String, CodingKey {
        case method, arguments, context
        case apiVersion = "api_version"
    }
}
