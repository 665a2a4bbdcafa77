/// Manifest and cloud-config keys that BOSH acts on and Bosun reads but cannot honour yet. A
/// deploy that uses one is refused before anything is touched, naming the key, instead of
/// deploying differently from BOSH without a word.
extension DeploymentManifest {
    public func unsupportedKeys() -> [String] {
        var found: [String] = []
        func refuse(_ path: String, _ what: String) { found.append("\(path): \(what) — Bosun does not support it yet") }
        if features.convergeVariables { refuse("features.converge_variables", "true") }
        if features.randomizeAZPlacement { refuse("features.randomize_az_placement", "true") }
        if features.useLinkDNSNames {
            refuse("features.use_link_dns_names", "true (short DNS names)")
        } else if features.useShortDNSAddresses {
            refuse("features.use_short_dns_addresses", "true")
        }
        for (index, group) in instanceGroups.enumerated() {
            let path = "instance_groups[\(index)] (\(group.name))"
            if !group.migratedFrom.isEmpty { refuse(path + ".migrated_from", "renaming instance groups") }
            if group.env.persistentDiskFS != "ext4" {
                refuse(path + ".env.persistent_disk_fs", "\(group.env.persistentDiskFS) (agents format ext4 only)")
            }
            for (jobIndex, job) in group.jobs.enumerated() where !job.customProviderDefinitions.isNull {
                refuse(path + ".jobs[\(jobIndex)] (\(job.name)).custom_provider_definitions", "custom link providers")
            }
        }
        return found
    }
}

extension CloudConfig {
    /// An AZ's `cpi:` picks one of several CPIs (cpi-config); Bosun drives one CPI for now.
    public func unsupportedKeys() -> [String] {
        azs.enumerated().compactMap { index, az in
            az.cpi.map {
                "azs[\(index)] (\(az.name)).cpi: '\($0)' — Bosun drives one CPI and does not support cpi-config yet"
            }
        }
    }
}
