/// The body of `GET /info`, which the `bosh` CLI reads before anything else to learn the
/// director's name, version and how to authenticate.
public struct DirectorInfo: Codable, Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var version: String
    public var cpi: String
    public var userAuthentication: UserAuthentication

    public struct UserAuthentication: Codable, Sendable, Equatable {
        /// `basic` or `uaa`.
        public var type: String
        public init(type: String) { self.type = type }
    }

    public init(name: String, uuid: String, version: String, cpi: String, userAuthentication: UserAuthentication) {
        self.name = name
        self.uuid = uuid
        self.version = version
        self.cpi = cpi
        self.userAuthentication = userAuthentication
    }

    enum CodingKeys: String, CodingKey {
        case name, uuid, version, cpi
        case userAuthentication = "user_authentication"
    }
}
