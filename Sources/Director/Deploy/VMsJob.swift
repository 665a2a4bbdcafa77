import BosunCore
import FluentKit
import Foundation

/// `vms` (`GET /deployments/<d>/vms|instances?format=full`): one JSON line per instance (or VM)
/// in the task's result, with what its agent says right now — job state, processes, vitals.
struct VMsJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let name = context.deployment else { throw DeployError("No deployment given") }
        let includeInstancesWithoutVM = context.arguments["instances"] == .bool(true)
        let state = try await DeploymentState.load(name, on: context.database)
        let vmTypes = Self.vmTypes(inManifest: state.deployment?.manifest ?? "")
        let rows = try await withThrowingTaskGroup(of: (Int, JSONValue?).self) { group in
            for (position, instance) in state.instances.enumerated() {
                group.addTask {
                    guard let id = instance.id else { return (position, nil) }
                    let vm = state.vms[id]
                    if vm == nil && !includeInstancesWithoutVM { return (position, nil) }
                    return (
                        position,
                        await Self.row(
                            instance, vm: vm, vmType: vmTypes[instance.group], state: state, context: context)
                    )
                }
            }
            var rows: [(Int, JSONValue)] = []
            for try await (position, row) in group { if let row { rows.append((position, row)) } }
            return rows.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for row in rows {
            try context.output.append(.result, try JSONCoding.string(row) + "\n")
        }
        return "\(rows.count) \(includeInstancesWithoutVM ? "instances" : "VMs")"
    }

    /// Each instance group's `vm_type` name in the deployed manifest (`vm_resources` groups have none).
    static func vmTypes(inManifest text: String) -> [String: String] {
        guard let groups = (try? YAMLValue.parse(text, source: "manifest"))?["instance_groups"]?.arrayValue else {
            return [:]
        }
        var names: [String: String] = [:]
        for group in groups {
            if let name = group["name"]?.stringValue, let vmType = group["vm_type"]?.stringValue {
                names[name] = vmType
            }
        }
        return names
    }

    static func row(
        _ instance: InstanceRecord, vm: VMRecord?, vmType: String?, state: DeploymentState, context: TaskContext
    ) async -> JSONValue {
        let id = instance.id ?? 0
        var row: [String: JSONValue] = [
            "job_name": .string(instance.group), "index": .int(instance.index), "id": .string(instance.uuid),
            "az": .string(instance.az ?? ""), "bootstrap": .bool(instance.bootstrap), "state": .string(instance.state),
            "ips": .array((state.addresses[id] ?? []).map { .string($0.address) }), "ignore": false,
            "disk_cid": state.disks[id]?.cid.map(JSONValue.string) ?? .null,
            "disk_cids": .array(state.disks[id]?.cid.map { [JSONValue.string($0)] } ?? []),
            "vm_cid": .string(vm?.cid ?? ""), "agent_id": .string(vm?.agentID ?? ""),
            "active": vm.map { .bool($0.active) } ?? .null,
            "resurrection_paused": false, "processes": [], "vm_type": vmType.map(JSONValue.string) ?? .null,
        ]
        if let vm {
            if let description = try? JSONCoding.decoder.decode(VMDescription.self, from: Data(vm.description.utf8)) {
                let parts = description.stemcell.split(separator: "/", maxSplits: 1).map(String.init)
                row["stemcell"] = [
                    "name": .string(parts.first ?? ""), "version": .string(parts.count > 1 ? parts[1] : ""),
                    "api_version": 3,
                ]
                row["cloud_properties"] = description.cloudProperties
            }
            row["vm_created_at"] = .string(
                ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: vm.createdAt)))
            if let health = context.deploy?.health.entry(agentID: vm.agentID) {
                row["last_heartbeat"] =
                    health.lastHeartbeat.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null
                row["agent_timed_out"] = .bool(health.timedOut)
            }
            if let agent = try? await context.deploy?.agents.client(
                agentID: vm.agentID, instanceName: "\(instance.group)/\(instance.uuid)", requestTimeout: .seconds(5)),
                let reply = try? await agent.send(.getState(full: true))
            {
                row["job_state"] = reply["job_state"] ?? "unknown"
                row["processes"] = reply["processes"] ?? []
                if let vitals = reply["vitals"] { row["vitals"] = vitals }
            } else {
                row["job_state"] = "unresponsive agent"
            }
        }
        return .object(row)
    }
}
