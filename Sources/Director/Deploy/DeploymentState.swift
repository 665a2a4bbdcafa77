import AgentProtocol
import BosunCore
import FluentKit
import Foundation

extension InstanceRecord {
    /// The apply spec last sent to the instance's agent, if any.
    var appliedSpec: ApplySpec? {
        spec.flatMap { try? JSONCoding.decoder.decode(ApplySpec.self, from: Data($0.utf8)) }
    }
}

/// What the database knows about one deployment: its instances with their active VM, addresses
/// and persistent disk — the actual state the planner compares the manifest with.
struct DeploymentState: Sendable {
    var deployment: DeploymentRecord?
    var instances: [InstanceRecord]
    /// Instance id → its active VM.
    var vms: [Int: VMRecord]
    /// Instance id → addresses it holds.
    var addresses: [Int: [IPAddressRecord]]
    /// Instance id → its active persistent disk.
    var disks: [Int: PersistentDiskRecord]

    static func load(_ name: String, on database: any Database) async throws -> DeploymentState {
        guard let deployment = try await DeploymentRecord.query(on: database).filter(\.$name == name).first(),
            let id = deployment.id
        else {
            return DeploymentState(deployment: nil, instances: [], vms: [:], addresses: [:], disks: [:])
        }
        let instances = try await InstanceRecord.query(on: database).filter(\.$deploymentID == id).sort(\.$group).sort(
            \.$index
        ).all()
        let vms = try await VMRecord.query(on: database).filter(\.$deploymentID == id).filter(\.$active == true).all()
        let addresses = try await IPAddressRecord.query(on: database).filter(\.$deploymentID == id).all()
        let instanceIDs = instances.compactMap(\.id)
        let disks =
            instanceIDs.isEmpty
            ? []
            : try await PersistentDiskRecord.query(on: database)
                .filter(\.$instanceID ~~ instanceIDs).filter(\.$active == true).all()
        return DeploymentState(
            deployment: deployment, instances: instances,
            vms: Dictionary(
                vms.compactMap { vm in vm.instanceID.map { ($0, vm) } }, uniquingKeysWith: { first, _ in first }),
            addresses: Dictionary(grouping: addresses.filter { $0.instanceID != nil }, by: { $0.instanceID! }),
            disks: Dictionary(disks.map { ($0.instanceID, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Every address the director has handed out outside this deployment's instances.
    static func addressesTakenElsewhere(
        than deploymentID: Int?, on database: any Database
    ) async throws -> Set<IPv4Address> {
        let all = try await IPAddressRecord.query(on: database).all()
        return Set(
            all.filter { $0.deploymentID != deploymentID || $0.instanceID == nil }.compactMap {
                IPv4Address($0.address)
            })
    }

    func instance(withUUID uuid: String) -> InstanceRecord? { instances.first { $0.uuid == uuid } }

    /// The ids of the instances whose active VM was created before `cutoff`.
    func instances(withVMCreatedBefore cutoff: Date) -> Set<String> {
        Set(
            instances.filter { instance in
                guard let id = instance.id, let vm = vms[id] else { return false }
                return vm.createdAt < cutoff.timeIntervalSince1970
            }.map(\.uuid))
    }

    var actualInstances: [ActualInstance] {
        instances.compactMap { record in
            guard let id = record.id else { return nil }
            var ips: [String: IPv4Address] = [:]
            for address in addresses[id] ?? [] { ips[address.network] = IPv4Address(address.address) }
            let vm = vms[id].flatMap { vm in
                try? JSONCoding.decoder.decode(VMDescription.self, from: Data(vm.description.utf8))
            }
            let disk = disks[id].map { disk in
                DiskRequirement(
                    sizeMB: disk.sizeMB,
                    cloudProperties: (try? JSONCoding.decoder.decode(
                        JSONValue.self, from: Data(disk.cloudProperties.utf8))) ?? [:])
            }
            return ActualInstance(
                group: record.group, index: record.index, id: record.uuid, az: record.az, bootstrap: record.bootstrap,
                ips: ips,
                vm: vm, persistentDisk: disk)
        }
    }
}
