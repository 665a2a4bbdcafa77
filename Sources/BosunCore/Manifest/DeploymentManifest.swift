/// A deployment manifest v2 (bosh.io "manifest v2"), read and validated.
public struct DeploymentManifest: Sendable {
    public struct Release: Sendable, Hashable {
        public var name: String
        /// A version, or `latest`.
        public var version: String
        public var url: String?
        public var sha1: String?
        /// For compiled releases: the stemcell they were compiled against.
        public var stemcell: StemcellReference?
    }

    public struct StemcellReference: Sendable, Hashable {
        public var os: String
        public var version: String
    }

    public struct Stemcell: Sendable, Hashable {
        public var alias: String
        /// `os` (preferred) or the full stemcell `name`.
        public var os: String?
        public var name: String?
        public var version: String
    }

    public struct Features: Sendable, Hashable {
        public var convergeVariables = false
        public var randomizeAZPlacement = false
        public var useDNSAddresses: Bool?
        public var useShortDNSAddresses = false
        public var useLinkDNSNames = false
        /// When set, fills `env.bosh.job_dir.tmpfs` and `env.bosh.agent.settings.tmpfs` of every
        /// instance group that does not set them.
        public var useTmpfsConfig: Bool?
    }

    public struct Variable: Sendable, Hashable {
        public enum UpdateMode: String, Sendable, CaseIterable {
            case noOverwrite = "no-overwrite"
            case overwrite, converge
        }

        public var name: String
        public var type: String
        public var options: YAMLValue
        public var updateMode: UpdateMode
        public var consumes: YAMLValue
    }

    public var name: String
    public var releases: [Release]
    public var stemcells: [Stemcell]
    public var update: UpdateOverrides
    public var instanceGroups: [InstanceGroup]
    public var addons: [Addon]
    public var features: Features
    public var variables: [Variable]
    public var properties: YAMLValue
    public var tags: [String: String]

    public func instanceGroup(named name: String) -> InstanceGroup? { instanceGroups.first { $0.name == name } }

    /// Reads and validates a manifest after interpolation. Every problem is reported at once.
    public init(parsing text: String) throws(ManifestValidationError) {
        try self.init(document: try ManifestValidationError.parse(text, document: "deployment manifest"))
    }

    public init(document: YAMLValue) throws(ManifestValidationError) {
        self = try ManifestValidationError.reading(document, document: "deployment manifest") {
            DeploymentManifest(reading: $0)
        }
    }

    private init(reading root: ManifestNode) {
        name = root["name"].string(required: true) ?? ""
        let releaseNodes = root["releases"].list(required: true)
        releases = releaseNodes.map(Self.readRelease)
        reportDuplicateNames(zip(releases.map(\.name), releaseNodes).map { ($0, $1) }, what: "release")

        let stemcellNodes = root["stemcells"].list(required: true)
        stemcells = stemcellNodes.map(Self.readStemcell)
        var aliases: [String: String] = [:]
        for (stemcell, node) in zip(stemcells, stemcellNodes) where !stemcell.alias.isEmpty {
            if let first = aliases[stemcell.alias] {
                node["alias"].problem("duplicate stemcell alias \"\(stemcell.alias)\" (also at \(first))")
            }
            aliases[stemcell.alias] = node.path
        }

        update = UpdateOverrides.read(root["update"], requireCore: true)
        features = Self.readFeatures(root["features"])
        properties = root["properties"].freeform()
        tags = Self.readTags(root["tags"])
        variables = Self.readVariables(root["variables"])

        let context = InstanceGroup.Context(
            releaseNames: Set(releases.map(\.name)), stemcellAliases: Set(stemcells.map(\.alias)),
            deploymentUpdate: update, features: features)
        let groupNodes = root["instance_groups"].list(required: true)
        instanceGroups = groupNodes.map { InstanceGroup.read($0, context: context) }
        reportDuplicateNames(zip(instanceGroups.map(\.name), groupNodes).map { ($0, $1) }, what: "instance group")
        Self.reportCanonicalClashes(zip(instanceGroups.map(\.name), groupNodes).map { ($0, $1) })

        addons = root["addons"].list().map { Addon.read($0, releaseNames: context.releaseNames) }
    }

    private static func readRelease(_ node: ManifestNode) -> Release {
        var stemcell: StemcellReference?
        if !node["stemcell"].isMissing {
            stemcell = StemcellReference(
                os: node["stemcell"]["os"].string(required: true) ?? "",
                version: node["stemcell"]["version"].string(required: true) ?? "")
        }
        return Release(
            name: node["name"].string(required: true) ?? "", version: node["version"].string(required: true) ?? "",
            url: node["url"].string(), sha1: node["sha1"].string(), stemcell: stemcell)
    }

    private static func readStemcell(_ node: ManifestNode) -> Stemcell {
        let os = node["os"].string()
        let name = node["name"].string()
        if os == nil && name == nil { node.problem("needs either os or name") }
        if os != nil && name != nil { node.problem("give either os or name, not both") }
        return Stemcell(
            alias: node["alias"].string(required: true) ?? "", os: os, name: name,
            version: node["version"].string(required: true) ?? "")
    }

    private static func readFeatures(_ node: ManifestNode) -> Features {
        node.map()
        var features = Features()
        features.convergeVariables = node["converge_variables"].bool() ?? false
        features.randomizeAZPlacement = node["randomize_az_placement"].bool() ?? false
        features.useDNSAddresses = node["use_dns_addresses"].bool()
        features.useShortDNSAddresses = node["use_short_dns_addresses"].bool() ?? false
        let linkNames = node["use_link_dns_names"].bool() ?? false
        features.useLinkDNSNames = linkNames
        if linkNames {
            if features.useDNSAddresses == false {
                node["use_dns_addresses"].problem("must not be false when use_link_dns_names is true")
            }
            if node["use_short_dns_addresses"].bool() == false {
                node["use_short_dns_addresses"].problem("must not be false when use_link_dns_names is true")
            }
            features.useDNSAddresses = true
            features.useShortDNSAddresses = true
        }
        features.useTmpfsConfig = node["use_tmpfs_config"].bool()
        return features
    }

    static func readTags(_ node: ManifestNode) -> [String: String] {
        var tags: [String: String] = [:]
        for (key, value) in node.entries() { tags[key] = value.string() ?? "" }
        return tags
    }

    static func readVariables(_ node: ManifestNode) -> [Variable] {
        let nodes = node.list()
        let variables = nodes.map { item in
            Variable(
                name: item["name"].string(required: true) ?? "", type: item["type"].string(required: true) ?? "",
                options: item["options"].value ?? .null,
                updateMode: item["update_mode"].choice(Variable.UpdateMode.self) ?? .noOverwrite,
                consumes: item["consumes"].value ?? .null)
        }
        reportDuplicateNames(zip(variables.map(\.name), nodes).map { ($0, $1) }, what: "variable")
        return variables
    }

    /// BOSH compares instance group names case-insensitively with `_` and `-` treated alike.
    private static func reportCanonicalClashes(_ items: [(String, ManifestNode)]) {
        var seen: [String: String] = [:]
        for (name, node) in items where !name.isEmpty {
            let canonical = name.lowercased().replacingOccurrences(of: "_", with: "-")
            if let other = seen[canonical], other != name {
                node["name"].problem("\"\(name)\" clashes with \"\(other)\" (names are compared ignoring case and _/-)")
            }
            seen[canonical] = name
        }
    }
}
