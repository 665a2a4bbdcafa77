/// Binds each job's `consumes` to a `provides` of another (or the same) instance group of the
/// deployment, or to a link another deployment shares, as BOSH does:
///
/// - `consumes: {db: {from: primary}}` picks the provider whose link is named (or aliased with
///   `as:`) `primary`; `consumes: {db: nil}` turns the link off;
/// - `consumes: {db: {from: primary, deployment: other}}` picks it among the links deployment
///   `other` shares (`provides: {primary: {shared: true}}`), as of its last successful deploy;
/// - otherwise the one provider of the same type is used; none is an error unless the link is
///   `optional`, several are an error that lists them. A link named explicitly (`from`,
///   `deployment`) must resolve, optional or not.
///
/// A provided link carries the properties its spec lists, with the provider's values.
public struct LinkResolver {
    /// A job of an instance group, with what its spec and the manifest say about links.
    public struct Job: Sendable {
        public var group: String
        public var name: String
        /// `job.MF` (`consumes`, `provides`).
        public var spec: JSONValue
        /// The manifest's `consumes` / `provides` for this job (null when not given).
        public var manifestConsumes: JSONValue
        public var manifestProvides: JSONValue
        /// The job's resolved properties, for the values a provided link exposes.
        public var properties: JSONValue

        public init(
            group: String, name: String, spec: JSONValue, manifestConsumes: JSONValue, manifestProvides: JSONValue, properties: JSONValue
        ) {
            self.group = group
            self.name = name
            self.spec = spec
            self.manifestConsumes = manifestConsumes
            self.manifestProvides = manifestProvides
            self.properties = properties
        }
    }

    /// The instances of a group other jobs see through a link.
    public struct LinkInstance: Sendable, Hashable {
        public var name: String
        public var index: Int
        public var id: String
        public var az: String?
        public var address: String?
        public var bootstrap: Bool

        public init(name: String, index: Int, id: String, az: String?, address: String?, bootstrap: Bool) {
            self.name = name
            self.index = index
            self.id = id
            self.az = az
            self.address = address
            self.bootstrap = bootstrap
        }
    }

    struct Provider {
        var job: Job
        var linkName: String
        var alias: String
        var type: String
        var propertyNames: [String]
        var shared: Bool
    }

    public var jobs: [Job]
    /// Instances by group name.
    public var instances: [String: [LinkInstance]]
    /// The deployment being resolved: `deployment:` naming it means this deployment.
    public var deploymentName: String
    /// Links other deployments share, by deployment name.
    public var shared: [String: [SharedLink]]
    /// With DNS addresses: a link's `address` per providing group (its `q-s0` query name)
    /// instead of the first instance's address.
    public var groupAddresses: [String: String] = [:]

    public init(jobs: [Job], instances: [String: [LinkInstance]], deploymentName: String = "", shared: [String: [SharedLink]] = [:]) {
        self.jobs = jobs
        self.instances = instances
        self.deploymentName = deploymentName
        self.shared = shared
    }

    private var providers: [Provider] {
        jobs.flatMap { job -> [Provider] in
            (job.spec["provides"]?.arrayValue ?? []).compactMap { entry in
                guard let name = entry["name"]?.stringValue, let type = entry["type"]?.stringValue else { return nil }
                if case .object(let map) = job.manifestProvides, map[name] == .null { return nil }  // `{name: nil}` turns it off
                let alias = job.manifestProvides[name]?["as"]?.stringValue ?? name
                let names = entry["properties"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return Provider(
                    job: job, linkName: name, alias: alias, type: type, propertyNames: names,
                    shared: job.manifestProvides[name]?["shared"] == .bool(true))
            }
        }
    }

    /// The links this deployment shares with others (`shared: true`), with their values now.
    public func sharedLinks() -> [SharedLink] {
        providers.filter(\.shared).map {
            SharedLink(name: $0.alias, type: $0.type, group: $0.job.group, job: $0.job.name, value: linkValue($0))
        }.sorted { ($0.name, $0.group, $0.job) < ($1.name, $1.group, $1.job) }
    }

    /// Links of every job, keyed by `group/job`, then by link name: `{instances, properties,
    /// address, instance_group}` as templates see them.
    public func resolve() throws(PlanningError) -> [String: [String: JSONValue]] {
        let providers = self.providers
        var problems: [String] = []
        var result: [String: [String: JSONValue]] = [:]
        for job in jobs {
            var links: [String: JSONValue] = [:]
            for entry in job.spec["consumes"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue, let type = entry["type"]?.stringValue else { continue }
                let optional = entry["optional"] == .bool(true)
                let setting = job.manifestConsumes[name]
                if case .object(let map) = job.manifestConsumes, map[name] == .null { continue }
                if let deployment = setting?["deployment"]?.stringValue, deployment != deploymentName {
                    switch resolveShared(name: name, type: type, from: setting?["from"]?.stringValue, deployment: deployment) {
                    case .success(let value): links[name] = value
                    case .failure(let problem): problems.append("Instance group '\(job.group)', job '\(job.name)': \(problem)")
                    }
                    continue
                }
                let candidates: [Provider]
                if let from = setting?["from"]?.stringValue {
                    candidates = providers.filter { $0.alias == from && $0.type == type }
                    if candidates.isEmpty {
                        problems.append("Instance group '\(job.group)', job '\(job.name)': link '\(name)' wants '\(from)' of type '\(type)', which no job provides")
                        continue
                    }
                } else {
                    candidates = providers.filter { $0.type == type }
                }
                guard candidates.count == 1, let provider = candidates.first else {
                    if candidates.isEmpty {
                        if !optional {
                            problems.append("Instance group '\(job.group)', job '\(job.name)': no job provides link '\(name)' of type '\(type)'")
                        }
                    } else {
                        let names = candidates.map { "\($0.job.group).\($0.job.name).\($0.alias)" }.sorted().joined(separator: ", ")
                        problems.append(
                            "Instance group '\(job.group)', job '\(job.name)': link '\(name)' of type '\(type)' has several providers (\(names)); choose one with 'from'")
                    }
                    continue
                }
                links[name] = linkValue(provider)
            }
            result["\(job.group)/\(job.name)"] = links
        }
        if !problems.isEmpty { throw PlanningError(problems.joined(separator: "\n")) }
        return result
    }

    private struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// A link from another deployment's shared ones: by alias when `from` is given, else the one
    /// of the type.
    private func resolveShared(name: String, type: String, from: String?, deployment: String) -> Result<JSONValue, Problem> {
        guard let offered = shared[deployment] else {
            return .failure(Problem(description: "link '\(name)' wants deployment '\(deployment)', which does not exist or shares no link"))
        }
        let candidates = offered.filter { $0.type == type && (from == nil || $0.name == from) }
        guard candidates.count == 1, let link = candidates.first else {
            let wanted = from.map { "'\($0)' of type '\(type)'" } ?? "a link of type '\(type)'"
            if candidates.isEmpty {
                let names = offered.map { "\($0.name) (\($0.type))" }.joined(separator: ", ")
                return .failure(Problem(description: "link '\(name)' wants \(wanted) from deployment '\(deployment)', which shares only: \(names)"))
            }
            let names = candidates.map { "\($0.group).\($0.job).\($0.name)" }.joined(separator: ", ")
            return .failure(Problem(
                description: "link '\(name)' wants \(wanted) from deployment '\(deployment)', which shares several (\(names)); choose one with 'from'"))
        }
        return .success(link.value)
    }

    private func linkValue(_ provider: Provider) -> JSONValue {
        let members = instances[provider.job.group] ?? []
        var properties: JSONValue = [:]
        for name in provider.propertyNames {
            let path = name.split(separator: ".").map(String.init)
            let value = JobProperties.lookup(path, in: provider.job.properties) ?? .null
            properties = properties.deepMerging(path.reversed().reduce(value) { inner, key in .object([key: inner]) })
        }
        let instanceValues: [JSONValue] = members.map { member in
            [
                "name": .string(member.name), "index": .int(member.index), "id": .string(member.id),
                "az": member.az.map(JSONValue.string) ?? .null, "address": member.address.map(JSONValue.string) ?? .null,
                "bootstrap": .bool(member.bootstrap),
            ]
        }
        return [
            "instances": .array(instanceValues), "properties": properties,
            "address": (groupAddresses[provider.job.group] ?? members.first?.address).map(JSONValue.string) ?? .null,
            "instance_group": .string(provider.job.group), "type": .string(provider.type), "name": .string(provider.alias),
        ]
    }
}

/// A link a deployment offers to others (`provides: {name: {shared: true}}`), recorded after its
/// last successful deploy.
public struct SharedLink: Sendable, Codable, Equatable {
    /// The name consumers use in `from` (the alias, when `as:` gives one).
    public var name: String
    public var type: String
    public var group: String
    public var job: String
    /// The link as templates see it (`instances`, `properties`, `address`, …).
    public var value: JSONValue

    public init(name: String, type: String, group: String, job: String, value: JSONValue) {
        self.name = name
        self.type = type
        self.group = group
        self.job = job
        self.value = value
    }
}
