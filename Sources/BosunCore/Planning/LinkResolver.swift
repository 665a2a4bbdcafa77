/// Binds each job's `consumes` to a `provides` of another (or the same) instance group of the
/// deployment, as BOSH does for links within one deployment:
///
/// - `consumes: {db: {from: primary}}` picks the provider whose link is named (or aliased with
///   `as:`) `primary`; `consumes: {db: nil}` turns the link off;
/// - otherwise the one provider of the same type is used; none is an error unless the link is
///   `optional`, several are an error that lists them.
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
    }

    public var jobs: [Job]
    /// Instances by group name.
    public var instances: [String: [LinkInstance]]

    public init(jobs: [Job], instances: [String: [LinkInstance]]) {
        self.jobs = jobs
        self.instances = instances
    }

    /// Links of every job, keyed by `group/job`, then by link name: `{instances, properties,
    /// address, instance_group}` as templates see them.
    public func resolve() throws(PlanningError) -> [String: [String: JSONValue]] {
        let providers = jobs.flatMap { job -> [Provider] in
            (job.spec["provides"]?.arrayValue ?? []).compactMap { entry in
                guard let name = entry["name"]?.stringValue, let type = entry["type"]?.stringValue else { return nil }
                if case .object(let map) = job.manifestProvides, map[name] == .null { return nil }  // `{name: nil}` turns it off
                let alias = job.manifestProvides[name]?["as"]?.stringValue ?? name
                let names = entry["properties"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return Provider(job: job, linkName: name, alias: alias, type: type, propertyNames: names)
            }
        }
        var problems: [String] = []
        var result: [String: [String: JSONValue]] = [:]
        for job in jobs {
            var links: [String: JSONValue] = [:]
            for entry in job.spec["consumes"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue, let type = entry["type"]?.stringValue else { continue }
                let optional = entry["optional"] == .bool(true)
                let setting = job.manifestConsumes[name]
                if case .object(let map) = job.manifestConsumes, map[name] == .null { continue }
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
            "address": members.first?.address.map(JSONValue.string) ?? .null,
            "instance_group": .string(provider.job.group), "type": .string(provider.type), "name": .string(provider.alias),
        ]
    }
}
