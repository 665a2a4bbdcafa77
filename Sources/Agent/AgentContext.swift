import AgentProtocol
import BosunCore
import Foundation
import NATS
import NIOCore

/// What every action may use: the settings, the layout, the task manager and the bus.
final class AgentContext: Sendable {
    let settings: AgentSettings
    let paths: AgentPaths
    let tasks = AgentTaskManager()
    let nats: NATSClient
    let supervisor: Supervisor
    /// Yields once a `shutdown` request has been answered; the agent service then stops the jobs and ends.
    let shutdownRequests: AsyncStream<Void>
    private let shutdownContinuation: AsyncStream<Void>.Continuation

    init(settings: AgentSettings, paths: AgentPaths, nats: NATSClient) {
        self.settings = settings
        self.paths = paths
        self.nats = nats
        (shutdownRequests, shutdownContinuation) = AsyncStream.makeStream(of: Void.self)
        let agentID = settings.agentID
        let address = settings.networks.values.compactMap(\.ip).first ?? ""
        self.supervisor = Supervisor(paths: paths) { job, process, description in
            // BOSH's alert shape: "<service> (<ips>) - <event> - <action>".
            let alert = AgentAlert(
                id: UUID().uuidString.lowercased(), severity: .alert, title: "\(process) (\(address)) - pid failed - restart",
                summary: "\(job)/\(process) \(description)", createdAt: Int(Date().timeIntervalSince1970))
            if let data = try? JSONCoding.encoder.encode(alert) {
                try? nats.publish(ByteBuffer(bytes: data), to: AgentSubjects.alert(agentID: agentID))
            }
        }
    }

    func requestShutdown() {
        shutdownContinuation.yield()
    }

    /// The last applied spec (`/var/vcap/bosh/spec.json`), or an empty object.
    func appliedSpec() -> JSONValue {
        guard let data = FileManager.default.contents(atPath: paths.spec),
            let spec = try? JSONCoding.decoder.decode(JSONValue.self, from: data)
        else { return [:] }
        return spec
    }

    func appliedJobNames() -> [String] {
        guard case .array(let templates)? = appliedSpec()["job"]?["templates"] else { return [] }
        return templates.compactMap { $0["name"]?.stringValue }
    }

    /// From the supervisor: `running`, `starting`, `failing` or `stopped` (reference §2.4).
    func jobState() async -> String {
        await supervisor.snapshot().jobState
    }
}
