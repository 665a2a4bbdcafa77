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
        networks: [PlannedNetwork], diskCIDs: [String] = []
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
        do {
            try environment.natsServer?.allow(agentIDs: [agentID])
            let env = description.env.deepMerging(try await environment.agentEnvironment(agentID: agentID))
            let created = try await context.cpi.createVM(
                agentID: agentID, stemcellCID: stemcellCID, cloudProperties: description.cloudProperties,
                networks: Self.cpiNetworks(networks), diskCIDs: diskCIDs, env: env)
            record.cid = created.vmCID
            try await record.save(on: context.database)
            context.events.debug("Created VM \(created.vmCID) for \(instanceName) (agent \(agentID))")
            let agent = try await waitForAgent(agentID: agentID, instanceName: instanceName)
            return CreatedVM(record: record, agent: agent)
        } catch {
            try? await delete(record)
            throw error
        }
    }

    /// Deletes the VM (a VM the IaaS no longer has counts as deleted) and forgets it.
    func delete(_ record: VMRecord) async throws {
        if let cid = record.cid {
            do {
                try await context.cpi.deleteVM(cid)
            } catch {
                guard error.kind == .vmNotFound else { throw error }
                context.events.debug("VM \(cid) was already gone")
            }
        }
        try? environment.natsServer?.revoke(agentIDs: [record.agentID])
        if let id = record.id {
            try await IPAddressRecord.query(on: context.database).filter(\.$vmID == id).delete()
        }
        try await record.delete(on: context.database)
    }

    /// Pings until the agent answers, for at most `agentStartTimeout`. The wait is the VM's boot,
    /// not the director's work, and is timed as such.
    func waitForAgent(agentID: String, instanceName: String) async throws -> AgentClient {
        var probe = try await environment.agents.client(agentID: agentID, instanceName: instanceName, requestTimeout: .seconds(2))
        let deadline = ContinuousClock.now + environment.agentStartTimeout
        let answered = try await context.ledger.measure("agent") { () async throws -> Bool in
            while ContinuousClock.now < deadline {
                try await context.checkCancelled()
                if (try? await probe.send(.ping)) == "pong" { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        guard answered else {
            throw DeployError("Timed out pinging the agent of '\(instanceName)' (agent \(agentID)) after \(environment.agentStartTimeout)")
        }
        probe.requestTimeout = .seconds(45)
        probe.ledger = context.ledger
        return probe
    }
}
