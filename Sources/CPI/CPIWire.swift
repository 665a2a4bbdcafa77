import BosunCore

/// What the director writes to a CPI executable's standard input: one call with positional
/// arguments (reference §6.1).
public struct CPIRequest: Codable, Sendable, Equatable {
    public var method: String
    public var arguments: [JSONValue]
    /// `director_uuid`, `request_id`, and the CPI config's properties.
    public var context: [String: JSONValue]
    /// Present once negotiated through `info`.
    public var apiVersion: Int?

    public init(method: String, arguments: [JSONValue], context: [String: JSONValue], apiVersion: Int?) {
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

/// What a CPI writes to standard output.
public struct CPIResponse: Codable, Sendable, Equatable {
    public var result: JSONValue?
    public var error: ErrorBody?
    /// Debug log of the call; appended to the task's CPI log.
    public var log: String

    public struct ErrorBody: Codable, Sendable, Equatable {
        public var type: String
        public var message: String
        public var okToRetry: Bool

        public init(type: String, message: String, okToRetry: Bool) {
            self.type = type
            self.message = message
            self.okToRetry = okToRetry
        }

        enum CodingKeys: String, CodingKey {
            case type, message
            case okToRetry = "ok_to_retry"
        }
    }

    public init(result: JSONValue?, error: ErrorBody?, log: String) {
        self.result = result
        self.error = error
        self.log = log
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(result ?? .null, forKey: .result)
        if let error { try container.encode(error, forKey: .error) } else { try container.encodeNil(forKey: .error) }
        try container.encode(log, forKey: .log)
    }

    enum CodingKeys: String, CodingKey { case result, error, log }
}

/// A CPI failure, by BOSH's error types.
public struct CPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case cpiError = "Bosh::Clouds::CpiError"
        case notSupported = "Bosh::Clouds::NotSupported"
        case notImplemented = "Bosh::Clouds::NotImplemented"
        case cloudError = "Bosh::Clouds::CloudError"
        case vmNotFound = "Bosh::Clouds::VMNotFound"
        case networkNotFound = "Bosh::Clouds::NetworkNotFound"
        case noDiskSpace = "Bosh::Clouds::NoDiskSpace"
        case diskNotAttached = "Bosh::Clouds::DiskNotAttached"
        case diskNotFound = "Bosh::Clouds::DiskNotFound"
        case vmCreationFailed = "Bosh::Clouds::VMCreationFailed"
        /// A type this director does not know, the CPI's output could not be read, or it timed out.
        case unknown = "Bosh::Clouds::UnknownError"
        case invalidResponse = "Bosh::Clouds::InvalidResponse"
        case timeout = "Bosh::Clouds::Timeout"
    }

    public var kind: Kind
    public var message: String
    public var okToRetry: Bool

    public init(_ kind: Kind, _ message: String, okToRetry: Bool = false) {
        self.kind = kind
        self.message = message
        self.okToRetry = okToRetry
    }

    /// Maps a response's error body, including the legacy spellings of "not implemented".
    public init(body: CPIResponse.ErrorBody) {
        if (body.type == "InvalidCall" && body.message.hasPrefix("Method is not known"))
            || (body.type == Kind.cloudError.rawValue && body.message.hasPrefix("Invalid Method:"))
        {
            self.init(.notImplemented, body.message)
            return
        }
        self.init(Kind(rawValue: body.type) ?? .unknown, body.message, okToRetry: body.okToRetry)
    }

    public var body: CPIResponse.ErrorBody { .init(type: kind.rawValue, message: message, okToRetry: okToRetry) }

    public var description: String { "CPI error '\(kind.rawValue)' with message '\(message)'" }
}
