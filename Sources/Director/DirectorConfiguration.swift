import BosunCore

/// The director's settings with their embedded defaults: SQLite in the state directory, the API on
/// port 25555 and the blobstore on 25250, as in BOSH.
public struct DirectorConfiguration: Sendable, Equatable {
    public var stateDirectory: String
    public var apiPort: Int
    public var blobstorePort: Int

    public init(stateDirectory: String, apiPort: Int = 25555, blobstorePort: Int = 25250) {
        self.stateDirectory = stateDirectory
        self.apiPort = apiPort
        self.blobstorePort = blobstorePort
    }

    public var databasePath: String { stateDirectory + "/director.sqlite" }
}
