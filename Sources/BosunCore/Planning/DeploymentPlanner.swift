/// Turns the desired state (manifest + cloud config) and the actual state (instances the
/// director knows) into a plan per instance: which instances stay, which are created or deleted,
/// their AZs, indices, bootstrap flag and addresses, and why each one is touched. Pure: the
/// director reads the inputs from its database and acts on the result.
public struct DeploymentPlanner {
    public enum Recreate: Sendable, Hashable {
        case none
        case all
        /// Instance ids or `group/index` / `group/id` names.
        case instances(Set<String>)
    }

    public var manifest: DeploymentManifest
    public var cloudConfig: CloudConfig
    /// Stemcell alias → `<name>/<version>` of the uploaded stemcell it resolves to.
    public var stemcells: [String: String]
    public var actual: [ActualInstance]
    /// Addresses held outside this deployment: other deployments and orphaned VMs.
    public var ipsTakenElsewhere: Set<IPv4Address>
    public var recreate: Recreate
    /// `--recreate-persistent-disks`: every instance's persistent disk is replaced by a new one.
    public var recreatePersistentDisks = false
    /// Makes a new instance id (a UUID in the director; predictable in tests).
    public var makeID: () -> String

    public init(
        manifest: DeploymentManifest, cloudConfig: CloudConfig, stemcells: [String: String], actual: [ActualInstance],
        ipsTakenElsewhere: Set<IPv4Address> = [], recreate: Recreate = .none, makeID: @escaping () -> String
    ) {
        self.manifest = manifest
        self.cloudConfig = cloudConfig
        self.stemcells = stemcells
        self.actual = actual
        self.ipsTakenElsewhere = ipsTakenElsewhere
        self.recreate = recreate
        self.makeID = makeID
    }

    public func plan() throws(PlanningError) -> DeploymentPlan {
        // An address held by any instance of this deployment stays taken for the whole deploy: a
        // kept instance keeps it, a deleted one frees it only once its VM is gone.
        var allocator = IPAllocator(taken: ipsTakenElsewhere.union(actual.flatMap { $0.ips.values }))
        var groups: [InstanceGroupPlan] = []
        let serviceGroups = manifest.instanceGroups.filter { $0.lifecycle == .service }
        for group in serviceGroups {
            groups.append(try plan(group, allocator: &allocator))
        }
        let planned = Set(manifest.instanceGroups.map(\.name))
        let dropped = Dictionary(grouping: actual.filter { !planned.contains($0.group) }, by: \.group)
        return DeploymentPlan(instanceGroups: groups, obsoleteGroups: dropped)
    }

    private func plan(_ group: InstanceGroup, allocator: inout IPAllocator) throws(PlanningError) -> InstanceGroupPlan {
        let existing = actual.filter { $0.group == group.name }.sorted { $0.index < $1.index }
        var placement = try InstancePlacement.place(
            group, existing: existing, cloudConfig: cloudConfig, makeID: makeID)
        placement.chooseBootstrap()
        guard let stemcell = stemcells[group.stemcell] else {
            throw PlanningError("Instance group '\(group.name)': stemcell '\(group.stemcell)' is not uploaded")
        }
        let disk = try persistentDisk(of: group)
        var instances: [InstancePlan] = []
        for slot in placement.slots {
            let name = "\(group.name)/\(slot.id) (\(slot.index))"
            let networks = try plannedNetworks(group, slot: slot, instanceName: name, allocator: &allocator)
            let vm = VMDescription(
                stemcell: stemcell, cloudProperties: try cloudProperties(of: group, az: slot.az), env: JSONValue(yaml: group.env.raw))
            var plan = InstancePlan(
                group: group.name, index: slot.index, id: slot.id, az: slot.az, bootstrap: slot.bootstrap,
                actual: slot.actual, networks: networks, vm: vm, persistentDisk: disk, reasons: [])
            plan.reasons = reasons(for: plan)
            instances.append(plan)
        }
        return InstanceGroupPlan(name: group.name, instances: instances, obsolete: placement.obsolete)
    }

    private func reasons(for plan: InstancePlan) -> [ChangeReason] {
        guard let actual = plan.actual else { return [.created] }
        var reasons: [ChangeReason] = []
        if let vm = actual.vm {
            if vm.stemcell != plan.vm.stemcell { reasons.append(.stemcellChanged(from: vm.stemcell, to: plan.vm.stemcell)) }
            if vm.cloudProperties != plan.vm.cloudProperties { reasons.append(.cloudPropertiesChanged) }
            let tmpfs = Self.tmpfsChanges(from: vm.env, to: plan.vm.env)
            if !tmpfs.isEmpty { reasons.append(.tmpfsChanged(tmpfs.joined(separator: ", "))) }
            if Self.withoutTmpfsKnobs(vm.env) != Self.withoutTmpfsKnobs(plan.vm.env) { reasons.append(.envChanged) }
        } else {
            reasons.append(.missingVM)
        }
        var wanted: [String: IPv4Address] = [:]
        for network in plan.networks { if let ip = network.ip { wanted[network.name] = ip } }
        let dynamicNames = Set(plan.networks.filter { $0.ip == nil }.map(\.name))
        let held = actual.ips.filter { !dynamicNames.contains($0.key) }
        if held != wanted { reasons.append(.networksChanged) }
        let before = actual.persistentDisk?.sizeMB ?? 0
        let after = plan.persistentDisk?.sizeMB ?? 0
        if before != after || (before > 0 && actual.persistentDisk?.cloudProperties != plan.persistentDisk?.cloudProperties) {
            reasons.append(.persistentDiskChanged(fromMB: before, toMB: after))
        } else if recreatePersistentDisks, before > 0, after > 0 {
            reasons.append(.persistentDiskRecreateRequested)
        }
        if isRecreateRequested(actual), actual.vm != nil { reasons.append(.recreateRequested) }
        return reasons
    }

    private func isRecreateRequested(_ instance: ActualInstance) -> Bool {
        switch recreate {
        case .none: false
        case .all: true
        case .instances(let names):
            names.contains(instance.id) || names.contains("\(instance.group)/\(instance.id)")
                || names.contains("\(instance.group)/\(instance.index)") || names.contains(instance.group)
        }
    }

    private func persistentDisk(of group: InstanceGroup) throws(PlanningError) -> DiskRequirement? {
        if let size = group.persistentDisk { return size > 0 ? DiskRequirement(sizeMB: size, cloudProperties: [:]) : nil }
        guard let typeName = group.persistentDiskType else { return nil }
        guard let type = cloudConfig.diskTypes.first(where: { $0.name == typeName }) else {
            throw PlanningError("Instance group '\(group.name)': disk type '\(typeName)' is not in the cloud config")
        }
        return type.diskSize > 0 ? DiskRequirement(sizeMB: type.diskSize, cloudProperties: JSONValue(yaml: type.cloudProperties)) : nil
    }

    /// AZ, then VM type (or `vm_resources`), then each VM extension, merged in that order.
    private func cloudProperties(of group: InstanceGroup, az: String?) throws(PlanningError) -> JSONValue {
        var merged: JSONValue = [:]
        if let az, let zone = cloudConfig.az(named: az) { merged = merged.deepMerging(JSONValue(yaml: zone.cloudProperties)) }
        if let typeName = group.vmType {
            guard let type = cloudConfig.vmTypes.first(where: { $0.name == typeName }) else {
                throw PlanningError("Instance group '\(group.name)': VM type '\(typeName)' is not in the cloud config")
            }
            merged = merged.deepMerging(JSONValue(yaml: type.cloudProperties))
        } else if let resources = group.vmResources {
            merged = merged.deepMerging([
                "cpu": .int(resources.cpu), "ram": .int(resources.ram), "ephemeral_disk": .int(resources.ephemeralDiskSize),
            ])
        }
        for name in group.vmExtensions {
            guard let extensionType = cloudConfig.vmExtensions.first(where: { $0.name == name }) else {
                throw PlanningError("Instance group '\(group.name)': VM extension '\(name)' is not in the cloud config")
            }
            merged = merged.deepMerging(JSONValue(yaml: extensionType.cloudProperties))
        }
        return merged
    }
}
