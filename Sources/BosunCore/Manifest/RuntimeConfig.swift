/// A runtime config: releases and addons applied to every matching deployment.
public struct RuntimeConfig: Sendable {
    public var releases: [DeploymentManifest.Release]
    public var addons: [Addon]
    public var tags: [String: String]
    public var variables: [DeploymentManifest.Variable]

    public init(parsing text: String) throws(ManifestValidationError) {
        try self.init(document: try ManifestValidationError.parse(text, document: "runtime config"))
    }

    public init(document: YAMLValue) throws(ManifestValidationError) {
        self = try ManifestValidationError.reading(document, document: "runtime config", Self.read)
    }

    private init(releases: [DeploymentManifest.Release], addons: [Addon], tags: [String: String], variables: [DeploymentManifest.Variable]) {
        self.releases = releases
        self.addons = addons
        self.tags = tags
        self.variables = variables
    }

    private static func read(_ root: ManifestNode) -> RuntimeConfig {
        let releaseNodes = root["releases"].list()
        let releases = releaseNodes.map { node in
            let version = node["version"].string(required: true) ?? ""
            if version == "latest" {
                node["version"].problem("runtime configs need an exact release version, not latest")
            }
            return DeploymentManifest.Release(
                name: node["name"].string(required: true) ?? "", version: version, url: node["url"].string(),
                sha1: node["sha1"].string(), stemcell: nil)
        }
        reportDuplicateNames(zip(releases.map(\.name), releaseNodes).map { ($0, $1) }, what: "release")
        let releaseNames = Set(releases.map(\.name))
        return RuntimeConfig(
            releases: releases, addons: root["addons"].list().map { Addon.read($0, releaseNames: releaseNames) },
            tags: DeploymentManifest.readTags(root["tags"]), variables: DeploymentManifest.readVariables(root["variables"]))
    }
}
