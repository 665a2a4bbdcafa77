extension DeploymentManifest {
    /// The manifest as deployed: runtime configs' releases merged into `releases`, and the jobs of
    /// every addon (the runtime configs' and the manifest's own `addons`) added to each instance
    /// group its `include` matches and its `exclude` does not. In a filter every given criterion
    /// must match; the entries of one criterion are alternatives.
    public func applyingAddons(_ runtimeConfigs: [RuntimeConfig]) throws(PlanningError) -> DeploymentManifest {
        var result = self
        var problems: [String] = []
        for config in runtimeConfigs {
            for release in config.releases {
                if let existing = result.releases.first(where: { $0.name == release.name }) {
                    if existing.version != release.version && existing.version != "latest" {
                        problems.append(
                            "Runtime config release '\(release.name)/\(release.version)' conflicts with the deployment's '\(existing.name)/\(existing.version)'")
                    }
                } else {
                    result.releases.append(release)
                }
            }
        }
        let stemcellOS = Dictionary(stemcells.map { ($0.alias, $0.os ?? $0.name ?? "") }, uniquingKeysWith: { first, _ in first })
        for addon in runtimeConfigs.flatMap(\.addons) + addons {
            for index in result.instanceGroups.indices {
                let group = result.instanceGroups[index]
                let os = stemcellOS[group.stemcell] ?? ""
                if let include = addon.include, !Self.matches(include, group: group, deployment: name, os: os) { continue }
                if let exclude = addon.exclude, Self.matches(exclude, group: group, deployment: name, os: os) { continue }
                for job in addon.jobs {
                    if group.jobs.contains(where: { $0.name == job.name }) {
                        problems.append("Addon '\(addon.name)': instance group '\(group.name)' already has a job named '\(job.name)'")
                        continue
                    }
                    result.instanceGroups[index].jobs.append(job)
                }
            }
        }
        if !problems.isEmpty { throw PlanningError(problems.joined(separator: "\n")) }
        return result
    }

    static func matches(_ filter: Addon.Filter, group: InstanceGroup, deployment: String, os: String) -> Bool {
        if !filter.stemcellOSes.isEmpty && !filter.stemcellOSes.contains(os) { return false }
        if !filter.deployments.isEmpty && !filter.deployments.contains(deployment) { return false }
        if !filter.jobs.isEmpty
            && !filter.jobs.contains(where: { wanted in group.jobs.contains { $0.name == wanted.name && $0.release == wanted.release } })
        {
            return false
        }
        if !filter.instanceGroups.isEmpty && !filter.instanceGroups.contains(group.name) { return false }
        if !filter.azs.isEmpty && Set(filter.azs).isDisjoint(with: group.azs) { return false }
        if !filter.networks.isEmpty && Set(filter.networks).isDisjoint(with: group.networks.map(\.name)) { return false }
        if !filter.teams.isEmpty { return false }  // deployments have no teams here
        if let lifecycle = filter.lifecycle, lifecycle != group.lifecycle { return false }
        return true
    }
}
