/// A runtime config: releases and addons applied to every matching deployment.
public struct RuntimeConfig: Sendable {
    public var releases: [DeploymentManifest.Release]
    public var addons: [Addon]
    public var tags: [String: String]
    public var variables: [DeploymentManifest.Variable]

    public init(parsing text: String) throws(ManifestValidationError) {
        let document: YAMLValue
        do {
            document = try YAMLValue.parse(text, source: "runtime config")
        } catch {
            throw ManifestValidationError(
                document: "runtime config", problems: [ValidationProblem(path: "", message: error.message)])
        }
        try self.init(document: document)
    }

    public init(document: YAMLValue) throws(ManifestValidationError) {
        let log = ProblemLog()
        let root = ManifestNode(root: document, log: log)
        root.map(required: true)
        let releaseNodes = root["releases"].list()
        releases = releaseNodes.map { node in
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
        addons = root["addons"].list().map { Addon.read($0, releaseNames: releaseNames) }
        tags = DeploymentManifest.readTags(root["tags"])
        variables = DeploymentManifest.readVariables(root["variables"])
        guard log.problems.isEmpty else { throw ManifestValidationError(document: "runtime config", problems: log.problems) }
    }
}
