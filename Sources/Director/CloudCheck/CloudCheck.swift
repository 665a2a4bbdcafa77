import AgentProtocol
import BosunCore
import CPI
import FluentKit
import Foundation

/// What `bosun cck` looks for and how each kind of problem can be resolved (reference §8.3).
enum CloudCheck {
    /// Resolutions by problem type; the first is the one `--auto` applies.
    static let resolutions: [String: [String]] = [
        "missing_vm": ["recreate_vm", "recreate_vm_without_wait", "delete_vm_reference", "ignore"],
        "unresponsive_agent": ["recreate_vm", "recreate_vm_without_wait", "reboot_vm", "delete_vm", "delete_vm_reference", "ignore"],
        "mount_info_mismatch": ["reattach_disk", "ignore"],
        "missing_disk": ["delete_disk_reference", "ignore"],
        "unknown_vm": ["delete_vm", "ignore"],
    ]

    static let plans: [String: String] = [
        "recreate_vm": "Recreate VM and wait for processes to start", "recreate_vm_without_wait": "Recreate VM without waiting for processes to start",
        "delete_vm_reference": "Delete VM reference", "reboot_vm": "Reboot VM", "delete_vm": "Delete VM", "reattach_disk": "Reattach disk",
        "delete_disk_reference": "Delete disk reference (DANGEROUS!)", "ignore": "Skip for now",
    ]

    static func json(_ problem: DeploymentProblemRecord) -> JSONValue {
        [
            "id": .int(problem.id ?? 0), "type": .string(problem.type), "description": .string(problem.description),
            "instance_uuid": .string(problem.instanceUUID), "state": .string(problem.state),
            "resolutions": .array((resolutions[problem.type] ?? []).map { ["name": .string($0), "plan": .string(plans[$0] ?? $0)] }),
        ]
    }
}

/// `cck_scan` (`POST /deployments/<d>/scans`): every instance with a VM is checked — the IaaS
/// has the VM, the agent answers (5 s), the persistent disk exists and is mounted — and what is
/// wrong is stored as open problems, replacing the previous scan's.
struct CloudCheckScanJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment else { throw DeployError("No deployment given") }
        return try await context.withDeploymentLock(name) {
            let state = try await DeploymentState.load(name, on: context.database)
            guard let deploymentID = state.deployment?.id else { throw DeployError("Deployment '\(name)' doesn't exist") }
            for old in try await DeploymentProblemRecord.query(on: context.database).filter(\.$deploymentID == deploymentID)
                .filter(\.$state == "open").all()
            {
                old.state = "closed"
                try await old.save(on: context.database)
            }
            let found = Collected<[DeploymentProblemRecord]>([])
            try await ParallelRun.forEach(state.instances, limit: 8) { _, instance in
                let problems = try await Self.scan(instance, state: state, context: context, environment: environment)
                found.update { $0 += problems }
            }
            for problem in try await Self.unknownVMs(of: name, state: state, context: context, environment: environment) {
                found.update { $0.append(problem) }
            }
            for problem in found.value {
                problem.deploymentID = deploymentID
                problem.createdAt = Date().timeIntervalSince1970
                problem.state = "open"
                try await problem.save(on: context.database)
                context.events.debug("Problem: \(problem.description)")
            }
            try context.events.record(
                stage: "Scanning \(state.instances.count) instances", task: "\(found.value.count) problem\(found.value.count == 1 ? "" : "s") found",
                tags: [], index: 1, total: 1, state: "finished", progress: 100)
            return "\(found.value.count) problems"
        }
    }

    /// VMs the CPI has (Bosun's `list_vms`), tagged with this director and deployment, that
    /// the director knows neither as an instance's VM nor as an orphaned one.
    static func unknownVMs(
        of deployment: String, state: DeploymentState, context: TaskContext, environment: DeployEnvironment
    ) async throws -> [DeploymentProblemRecord] {
        guard (try? await context.cpi.info())?.supports(CPIExtension.listVMs) == true else { return [] }
        let listed = try await context.cpi.listVMs()
        let known = Set(try await VMRecord.query(on: context.database).all().compactMap(\.cid))
            .union(try await OrphanedVMRecord.query(on: context.database).all().map(\.cid))
        return listed.filter { $0.groups.contains(environment.directorName) && $0.groups.contains(deployment) && !known.contains($0.vmCID) }
            .map { vm in
                let record = DeploymentProblemRecord()
                record.type = "unknown_vm"
                record.instanceUUID = ""
                record.vmCID = vm.vmCID
                record.description = "VM '\(vm.vmCID)' (agent \(vm.agentID)) belongs to deployment '\(deployment)' but the director does not know it."
                return record
            }
    }

    static func scan(
        _ instance: InstanceRecord, state: DeploymentState, context: TaskContext, environment: DeployEnvironment
    ) async throws -> [DeploymentProblemRecord] {
        guard let id = instance.id, let vm = state.vms[id], let cid = vm.cid else { return [] }
        let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
        func problem(_ type: String, _ description: String, disk: String? = nil) -> DeploymentProblemRecord {
            let record = DeploymentProblemRecord()
            record.type = type
            record.instanceUUID = instance.uuid
            record.vmCID = cid
            record.diskCID = disk
            record.description = description
            return record
        }
        let agent: AgentClient
        switch await VMSteps(context: context, environment: environment).condition(of: vm, instanceName: label) {
        case .gone: return [problem("missing_vm", "VM for '\(label)' with cloud ID '\(cid)' missing.")]
        case .unresponsive: return [problem("unresponsive_agent", "VM for '\(label)' with cloud ID '\(cid)' is not responding.")]
        case .answering(let answering): agent = answering
        }
        guard let disk = state.disks[id], let diskCID = disk.cid else { return [] }
        guard (try? await context.cpi.hasDisk(diskCID)) ?? true else {
            return [problem("missing_disk", "Disk '\(diskCID)' (\(instance.group)/\(instance.uuid), \(disk.sizeMB)M) is missing", disk: diskCID)]
        }
        let mounted = (try? await agent.send(.listDisk))?.arrayValue?.compactMap(\.stringValue) ?? []
        guard mounted.contains(diskCID) else {
            return [problem(
                "mount_info_mismatch",
                "Inconsistent mount information: Record shows that disk '\(diskCID)' should be mounted on \(cid). However it is currently: Not mounted in any VM",
                disk: diskCID)]
        }
        return []
    }
}
