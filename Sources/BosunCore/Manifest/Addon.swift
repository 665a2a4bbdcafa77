/// An addon (runtime config or deployment `addons:`): jobs placed on matching instance groups.
public struct Addon: Sendable {
    /// `include` / `exclude` rules: all given rules must match; list items are alternatives.
    public struct Filter: Sendable, Hashable {
        public var stemcellOSes: [String]
        public var deployments: [String]
        public var jobs: [JobReference]
        public var instanceGroups: [String]
        public var azs: [String]
        public var networks: [String]
        public var teams: [String]
        public var lifecycle: InstanceGroup.Lifecycle?

        public struct JobReference: Sendable, Hashable {
            public var name: String
            public var release: String
        }

        static func read(_ node: ManifestNode) -> Filter? {
            guard !node.isMissing, node.map() != nil else { return nil }
            return Filter(
                stemcellOSes: node["stemcell"].list().compactMap { $0["os"].string(required: true) },
                deployments: node["deployments"].strings(),
                jobs: node["jobs"].list().map {
                    JobReference(name: $0["name"].string(required: true) ?? "", release: $0["release"].string(required: true) ?? "")
                }, instanceGroups: node["instance_groups"].strings(), azs: node["azs"].strings(),
                networks: node["networks"].strings(), teams: node["teams"].strings(),
                lifecycle: node["lifecycle"].choice(InstanceGroup.Lifecycle.self))
        }
    }

    public var name: String
    public var jobs: [InstanceGroup.Job]
    public var include: Filter?
    public var exclude: Filter?

    static func read(_ node: ManifestNode, releaseNames: Set<String>) -> Addon {
        let jobNodes = node["jobs"].list(required: true)
        let jobs = jobNodes.map { item -> InstanceGroup.Job in
            let release = item["release"].string(required: true) ?? ""
            if !release.isEmpty && !releaseNames.contains(release) {
                item["release"].problem("release \"\(release)\" is not listed under releases")
            }
            let properties = item["properties"]
            return InstanceGroup.Job(
                name: item["name"].string(required: true) ?? "", release: release,
                properties: properties.isMissing ? nil : properties.freeform(), consumes: item["consumes"].value ?? .null,
                provides: item["provides"].value ?? .null, customProviderDefinitions: .null)
        }
        return Addon(
            name: node["name"].string(required: true) ?? "", jobs: jobs, include: Filter.read(node["include"]),
            exclude: Filter.read(node["exclude"]))
    }
}
