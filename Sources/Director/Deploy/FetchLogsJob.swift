import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// `fetch_logs` (`GET /deployments/<d>/jobs/<group or *>/<id or *>/logs?type=job&filters=…`):
/// each chosen instance's agent packs its logs into the blobstore; one instance's tarball is the
/// result as it is, several are put together into one tarball of `<group>.<index>.<id>.tgz`
/// files. The task's result is the blob id (`GET /resources/<id>`).
/// Arguments: `{target, type, filters}`.
struct FetchLogsJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        guard let environment = context.deploy, let name = context.deployment, let blobs = context.blobs else {
            throw DeployError("No deployment given")
        }
        let target = context.arguments["target"]?.stringValue ?? "*"
        let type = context.arguments["type"]?.stringValue ?? "job"
        let filters = (context.arguments["filters"]?.arrayValue ?? []).compactMap(\.stringValue)
        let state = try await DeploymentState.load(name, on: context.database)
        let chosen = state.instances.filter { ChangeStateJob.matches(target, $0) }.compactMap { instance -> (InstanceRecord, VMRecord)? in
            guard let id = instance.id, let vm = state.vms[id] else { return nil }
            return (instance, vm)
        }
        guard !chosen.isEmpty else { throw DeployError("No instance of deployment '\(name)' with a VM matches '\(target)'") }
        let fetched = Collected<[(String, String)]>([])
        try await ParallelRun.forEach(chosen, limit: 5) { _, entry in
            let (instance, vm) = entry
            let label = "\(instance.group)/\(instance.uuid) (\(instance.index))"
            try await context.events.step(stage: "Fetching logs", task: label, tags: [instance.group]) {
                let agent = try await environment.agents.client(agentID: vm.agentID, instanceName: label, ledger: context.ledger)
                let types = type.split(separator: ",").map(String.init)
                let id: String
                if let urls = environment.signedBlobURLs {
                    // No blobstore credentials on the VM: it stores the logs through a URL for an id chosen here.
                    let upload = urls.newUpload()
                    id = upload.id
                    _ = try await agent.send(.fetchLogsWithSignedURL(uploadURL: upload.url, logTypes: types, filters: filters.isEmpty ? nil : filters))
                    guard blobs.exists(id) else { throw DeployError("'\(label)' sent no logs") }
                } else {
                    let answer = try await agent.send(.fetchLogs(logTypes: types, filters: filters.isEmpty ? nil : filters))
                    guard let sent = answer["blobstore_id"]?.stringValue else { throw DeployError("'\(label)' sent no logs") }
                    id = sent
                }
                fetched.update { $0.append(("\(instance.group).\(instance.index).\(instance.uuid).tgz", id)) }
            }
        }
        let parts = fetched.value.sorted { $0.0 < $1.0 }
        if parts.count == 1 { return parts[0].1 }
        let staging = NSTemporaryDirectory() + "bosun-logs-\(context.taskID)-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try FileManager.default.createDirectory(atPath: staging + "/content", withIntermediateDirectories: true)
        for (file, id) in parts {
            guard let path = blobs.path(of: id) else { continue }
            try FileManager.default.copyItem(atPath: path, toPath: staging + "/content/" + file)
            blobs.remove(id)
        }
        guard try await Tar.create(staging + "/logs.tgz", from: staging + "/content") else { throw DeployError("Cannot pack the logs") }
        let id = UUID().uuidString.lowercased()
        try await blobs.store(try Data(contentsOf: URL(fileURLWithPath: staging + "/logs.tgz")), as: id)
        return id
    }
}
