import BosunCore
import FluentKit
import Foundation

/// Director-wide address bookkeeping in the database. A reservation is a row with a unique
/// address; when two deploys race for one address the second insert fails and it takes the next.
enum AddressBook {
    /// Reserves the lowest free address of `network` in `az` for a VM without an instance (a
    /// compilation VM). Dynamic networks need no reservation.
    static func reserveForVM(
        network name: String, az: String?, cloud: CloudConfig, deploymentID: Int, on database: any Database
    ) async throws -> (PlannedNetwork, IPAddressRecord?) {
        guard let network = cloud.network(named: name) else { throw DeployError("Compilation network '\(name)' is not in the cloud config") }
        let subnets = network.subnets.filter { $0.azs.isEmpty || az.map($0.azs.contains) == true }
        guard network.kind == .manual else {
            let subnet = subnets.first
            return (PlannedNetwork(
                name: name, kind: network.kind, ip: nil, isStatic: false, netmask: nil, gateway: subnet?.gateway, dns: subnet?.dns ?? [],
                defaults: ["dns", "gateway"], cloudProperties: JSONValue(yaml: subnet?.cloudProperties ?? .null).orEmptyObject), nil)
        }
        for _ in 0..<20 {
            let taken = Set(try await IPAddressRecord.query(on: database).all().compactMap { IPv4Address($0.address) })
            var allocator = IPAllocator(taken: taken)
            guard let (ip, subnet) = allocator.allocate(in: subnets) else {
                throw DeployError("Failed to reserve IP for a compilation VM on network '\(name)': no more available addresses")
            }
            let record = IPAddressRecord()
            record.address = ip.description
            record.network = name
            record.deploymentID = deploymentID
            record.isStatic = false
            record.createdAt = Date().timeIntervalSince1970
            do {
                try await record.save(on: database)
            } catch {
                continue  // taken by someone else meanwhile
            }
            return (PlannedNetwork(
                name: name, kind: .manual, ip: ip, isStatic: false, netmask: subnet.range?.netmask, gateway: subnet.gateway,
                dns: subnet.dns, defaults: ["dns", "gateway"], cloudProperties: JSONValue(yaml: subnet.cloudProperties).orEmptyObject), record)
        }
        throw DeployError("Failed to reserve IP on network '\(name)': too many concurrent reservations")
    }

    /// Records the addresses a planned instance holds that are not recorded yet, and drops
    /// those it no longer holds.
    static func record(_ plan: InstancePlan, instanceID: Int, deploymentID: Int, on database: any Database) async throws {
        let held = try await IPAddressRecord.query(on: database).filter(\.$instanceID == instanceID).all()
        let wanted = Dictionary(plan.networks.compactMap { network in network.ip.map { ($0.description, network) } }, uniquingKeysWith: { a, _ in a })
        for record in held where wanted[record.address] == nil { try await record.delete(on: database) }
        for (address, network) in wanted where !held.contains(where: { $0.address == address }) {
            let record = IPAddressRecord()
            record.address = address
            record.network = network.name
            record.deploymentID = deploymentID
            record.instanceID = instanceID
            record.isStatic = network.isStatic
            record.createdAt = Date().timeIntervalSince1970
            do {
                try await record.save(on: database)
            } catch {
                throw DeployError("Failed to reserve IP \(address) for '\(plan.displayName)' on network '\(network.name)': it is in use")
            }
        }
    }
}
