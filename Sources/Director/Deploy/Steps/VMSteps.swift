import AgentProtocol
import BosunCore
import CPI
import FluentKit
import Foundation

/// Creating and deleting VMs the way a crash cannot leak one: the VM row (with its agent id) is
/// written before the CPI is called and gets its CID right after; deleting calls the CPI first
/// and removes the row after. The agent is let onto the bus before its VM exists.
struct VMSteps: Sendable {
    let context: TaskContext
    let environment: DeployEnvironment

    struct CreatedVM: Sendable {
        var record: VMRecord
        var agent: AgentClient
    }

    /// The `networks` argument of `create_vm`.
    static func cpiNetworks(_ networks: [PlannedNetwork]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for network in networks {
            var value: [String: JSONValue] = [
                "type": .string(network.kind.rawValue), "default": .array(network.defaults.map(JSONValue.string)),
                "dns": .array(network.dns.map(JSONValue.string)), "cloud_properties": network.cloudProperties,
            ]
            if let ip = network.ip { value["ip"] = .string(ip.description) }
            if let netmask = network.netmask { value["netmask"] = .string(netmask.description) }
            if let gateway = network.gateway { value["gateway"] = .string(gateway.description) }
            object[network.name] = .object(value)
        }
        return .object(object)
    }

    /// Creates a VM, records it and waits until its agent answers.
    func create(
        deploymentID: Int, instanceID: Int?, instanceName: String, stemcellCID: String, description: VMDescription,
        networks: [PlannedNetwork], diskCIDs: [String] = [], addresses: [IPAddressRecord] = []
    ) async throws -> CreatedVM {
        let agentID = UUID().uuidString.lowercased()
        let record = VMRecord()
        record.instanceID = instanceID
        record.deploymentID = deploymentID
        record.agentID = agentID
        record.active = false
        record.description = try JSONCoding.string(description)
        record.createdAt = Date().timeIntervalSince1970
        try await record.save(on: context.database)
        // Addresses reserved for this VM alone go with it (and are freed when it is deleted).
        for address in addresses {
            address.vmID = record.id
            try await address.save(on: context.database)
        }
        do {
            try environment.natsServer?.allow(agentIDs: [agentID])
            var groups: [String] = []
            if let deployment = try await DeploymentRecord.find(deploymentID, on: context.database) {
                let group = instanceID == nil ? "compilation" : String(instanceName.prefix { $0 != "/" })
                groups = environment.groups(deployment: deployment.name, instanceGroup: group)
            }
            let env = try await environment.vmEnvironment(groupEnv: description.env, agentID: agentID, groups: groups)
            let created = try await context.cpi.createVM(
                agentID: agentID, stemcellCID: stemcellCID, cloudProperties: description.cloudProperties,
                networks: Self.cpiNetworks(networks), diskCIDs: diskCIDs, env: env)
            record.cid = created.vmCID
            try await record.save(on: context.database)
            context.events.debug("Created VM \(created.vmCID) for \(instanceName) (agent \(agentID))")
            let agent = try await waitForAgent(agentID: agentID, instanceName: instanceName)
            // An instance's VM knows every instance's DNS name before its jobs start.
            if instanceID != nil { try await DNSRecords.sync(agent, on: context.database) }
            return CreatedVM(record: record, agent: agent)
        } catch {
            try? await delete(record)
            throw error
        }
    }

    /// Deletes the VM (a VM the IaaS no longer has counts as deleted) and forgets it. A row
    /// without a CID is a `create_vm` whose answer was lost: the VM is looked up by its agent
    /// id where the CPI can (others cannot tell, as with BOSH).
    func delete(_ record: VMRecord) async throws {
        var cids = record.cid.map { [$0] } ?? []
        if record.cid == nil, let found = try? await context.cpi.findVMs(agentID: record.agentID) {
            cids = found
            if !found.isEmpty { context.events.debug("Found VM(s) \(found.joined(separator: ", ")) of agent \(record.agentID), whose creation was interrupted") }
        }
        for cid in cids { try await context.deleteVMIfPresent(cid) }
        try? environment.natsServer?.revoke(agentIDs: [record.agentID])
        if let id = record.id {
            try await IPAddressRecord.query(on: context.database).filter(\.$vmID == id).delete()
        }
        try await record.delete(on: context.database)
    }

    /// What the IaaS and the agent say about a VM: gone from the IaaS (asked first, so a lost VM
    /// costs no wait), there but its agent silent for `timeout`, or answering.
    enum Condition {
        case gone, unresponsive, answering(AgentClient)
    }

    func condition(of vm: VMRecord, instanceName: String, timeout: Duration = .seconds(5)) async -> Condition {
        guard let cid = vm.cid, (try? await context.cpi.hasVM(cid)) ?? true else { return .gone }
        guard let agent = try? await environment.agents.client(agentID: vm.agentID, instanceName: instanceName, requestTimeout: timeout),
            (try? await agent.send(.ping)) != nil
        else { return .unresponsive }
        return .answering(agent)
    }

    /// Deletes a dead VM, its persistent disk detached first (an IaaS that lost either is fine),
    /// so the disk can go to the VM that replaces it.
    func deleteDetaching(_ vm: VMRecord, disk: PersistentDiskRecord?) async throws {
        if let vmCID = vm.cid, let diskCID = disk?.cid { try? await DiskSteps(context: context).detach(diskCID, from: vmCID) }
        try await delete(vm)
    }

    /// Pings until the agent answers, for at most `timeout` (default `agentStartTimeout`). The
    /// wait is the VM's boot (or the agent reconnecting), not the director's work, and is timed
    /// as such. Each ping waits half a second: one sent while the agent was not on the bus is
    /// lost, and the next one should not wait long behind it.
    func waitForAgent(agentID: String, instanceName: String, timeout: Duration? = nil) async throws -> AgentClient {
        var probe = try await environment.agents.client(agentID: agentID, instanceName: instanceName, requestTimeout: .milliseconds(500))
        let deadline = ContinuousClock.now + (timeout ?? environment.agentStartTimeout)
        let answered = try await context.ledger.measure("agent") { () async throws -> Bool in
            while ContinuousClock.now < deadline {
                try await context.checkCancelled()
                let sent = ContinuousClock.now
                if (try? await probe.send(.ping)) == "pong" { return true }
                // A refused ping (no agent on the bus yet) comes back at once: do not spin.
                if ContinuousClock.now - sent < .milliseconds(100) { try await Task.sleep(for: .milliseconds(100)) }
            }
            return false
        }
        guard answered else {
            throw DeployError("Timed out pinging the agent of '\(instanceName)' (agent \(agentID)) after \(timeout ?? environment.agentStartTimeout)")
        }
        probe.requestTimeout = .seconds(45)
        probe.ledger = context.ledger
        return probe
    }
}
