extension DeploymentManifest {
    /// Checks the manifest against a cloud config: every AZ, VM type, VM extension, disk type and
    /// network must exist, and static IPs must sit in a matching subnet's `static` pool.
    public func problems(against cloud: CloudConfig) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        var staticOwners: [IPv4Address: String] = [:]
        for (index, group) in instanceGroups.enumerated() {
            let path = "instance_groups[\(index)] (\(group.name))"
            func add(_ field: String, _ message: String) {
                problems.append(ValidationProblem(path: "\(path).\(field)", message: message))
            }
            if group.azs.isEmpty && !cloud.azs.isEmpty {
                add("azs", "is required: the cloud config defines AZs (\(cloud.azs.map(\.name).joined(separator: ", ")))")
            }
            for az in group.azs where cloud.az(named: az) == nil {
                add("azs", "unknown AZ \"\(az)\" (cloud config defines: \(Self.list(cloud.azs.map(\.name))))")
            }
            if let vmType = group.vmType, !cloud.vmTypes.contains(where: { $0.name == vmType }) {
                add("vm_type", "unknown VM type \"\(vmType)\" (cloud config defines: \(Self.list(cloud.vmTypes.map(\.name))))")
            }
            for name in group.vmExtensions where !cloud.vmExtensions.contains(where: { $0.name == name }) {
                add("vm_extensions", "unknown VM extension \"\(name)\" (cloud config defines: \(Self.list(cloud.vmExtensions.map(\.name))))")
            }
            let diskTypes = [group.persistentDiskType].compactMap { $0 } + group.persistentDisks.map(\.type)
            for type in diskTypes where !cloud.diskTypes.contains(where: { $0.name == type }) {
                let field = group.persistentDiskType == type ? "persistent_disk_type" : "persistent_disks"
                add(field, "unknown disk type \"\(type)\" (cloud config defines: \(Self.list(cloud.diskTypes.map(\.name))))")
            }
            for (networkIndex, network) in group.networks.enumerated() {
                let field = "networks[\(networkIndex)] (\(network.name))"
                guard let cloudNetwork = cloud.network(named: network.name) else {
                    add(field, "unknown network \"\(network.name)\" (cloud config defines: \(Self.list(cloud.networks.map(\.name))))")
                    continue
                }
                problems += Self.zoneProblems(group: group, network: cloudNetwork, path: "\(path).\(field)")
                for ip in network.staticIPs {
                    let inPool = cloudNetwork.subnets.contains { subnet in
                        subnet.staticIPs.contains(ip) && (group.azs.isEmpty || subnet.azs.isEmpty
                            || !Set(subnet.azs).isDisjoint(with: group.azs))
                    }
                    if !inPool && cloudNetwork.kind != .vip {
                        add("\(field).static_ips", "\(ip) is not in the static range of any subnet of network \"\(network.name)\" in the group's AZs")
                    }
                    if cloudNetwork.kind == .dynamic {
                        add("\(field).static_ips", "dynamic network \"\(network.name)\" cannot have static IPs")
                    }
                    if let owner = staticOwners[ip] {
                        add("\(field).static_ips", "\(ip) is already used by \(owner)")
                    } else {
                        staticOwners[ip] = path
                    }
                }
            }
        }
        return problems
    }

    /// A group's AZs must all be served by the network's subnets (when subnets name AZs).
    private static func zoneProblems(group: InstanceGroup, network: CloudNetwork, path: String) -> [ValidationProblem] {
        guard network.kind == .manual || network.kind == .dynamic else { return [] }
        let served = Set(network.subnets.flatMap(\.azs))
        if served.isEmpty { return [] }
        return group.azs.filter { !served.contains($0) }.map {
            ValidationProblem(path: path, message: "network \"\(network.name)\" has no subnet in AZ \"\($0)\"")
        }
    }

    private static func list(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.joined(separator: ", ")
    }
}
