import BosunCore

/// Instance groups ordered so that the providers of links come before their consumers, manifest
/// order kept otherwise (a stable topological sort; groups in a cycle keep their order). A
/// group consumes from another when one of its jobs consumes a link type a job there provides.
/// The resurrector brings instances back in this order, so a consumer starts against running
/// providers.
enum LinkOrder {
    /// Per group: the link types its jobs provide and consume.
    struct Group: Sendable, Equatable {
        var name: String
        var provides: Set<String>
        var consumes: Set<String>
    }

    static func sorted(_ groups: [Group]) -> [String] {
        var remaining = groups
        var ordered: [String] = []
        while !remaining.isEmpty {
            let pending = Set(remaining.map(\.name))
            // The first group (in manifest order) none of whose providers is still waiting.
            let next = remaining.firstIndex { group in
                !remaining.contains { other in
                    other.name != group.name && pending.contains(other.name) && !other.provides.isDisjoint(with: group.consumes)
                }
            } ?? 0
            ordered.append(remaining.remove(at: next).name)
        }
        return ordered
    }

    /// The groups of a manifest with the link types their jobs' specs provide and consume.
    static func groups(of manifest: DeploymentManifest, releases: [String: ResolvedRelease]) -> [Group] {
        manifest.instanceGroups.map { group in
            var provides = Set<String>(), consumes = Set<String>()
            for job in group.jobs {
                let spec = releases[job.release]?.spec(ofJob: job.name) ?? [:]
                for link in spec["provides"]?.arrayValue ?? [] { if let type = link["type"]?.stringValue { provides.insert(type) } }
                for link in spec["consumes"]?.arrayValue ?? [] { if let type = link["type"]?.stringValue { consumes.insert(type) } }
            }
            return Group(name: group.name, provides: provides, consumes: consumes)
        }
    }
}
