import AgentProtocol
import BosunCore
import FluentKit
import Foundation
import Logging
import ServiceLifecycle

/// Listens to agents' heartbeats (`hm.agent.heartbeat.<agent_id>`) and acts on what needs the
/// director: an agent reporting `templates_missing` (a tmpfs VM after a reboot) gets a
/// `restore_templates` task, unless one for that agent is queued or running (heartbeats are
/// handled one after another, so the check sees the task the previous one queued). A restore
/// that failed is tried again at the agent's next heartbeat.
public final class HeartbeatWatcher: Service, Sendable {
    let hub: AgentHub
    let tasks: TaskRunner
    let database: any Database
    let logger: Logger

    public init(hub: AgentHub, tasks: TaskRunner, database: any Database, logger: Logger) {
        self.hub = hub
        self.tasks = tasks
        self.database = database
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let heartbeats = try await self.hub.subscribe(to: "hm.agent.heartbeat.*")
                    for try await message in heartbeats {
                        let agentID = String(message.subject.split(separator: ".").last ?? "")
                        guard let heartbeat = try? JSONCoding.decoder.decode(Heartbeat.self, from: Data(message.payload.readableBytesView))
                        else { continue }
                        await self.handle(heartbeat, agentID: agentID)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.warning("Heartbeat subscription ended; subscribing again", metadata: ["director.error": "\(error)"])
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    func handle(_ heartbeat: Heartbeat, agentID: String) async {
        guard heartbeat.jobState == "templates_missing", let deployment = heartbeat.deployment, !agentID.isEmpty else { return }
        do {
            let open = try await TaskRecord.query(on: database).filter(\.$type == "restore_templates").filter(\.$state ~~ ["queued", "processing"]).all()
            guard !open.contains(where: { $0.arguments.contains(agentID) }) else { return }
            let instance = "\(heartbeat.job ?? "?")/\(heartbeat.nodeID ?? "?")"
            _ = try await tasks.enqueue(
                type: "restore_templates", description: "restore templates of \(instance) after a reboot", user: "health_monitor",
                deployment: deployment, arguments: ["agent_id": .string(agentID)])
            logger.info("Templates missing after a reboot: restoring them", metadata: ["director.instance": "\(instance)"])
        } catch {
            logger.warning("Cannot queue the templates' restore", metadata: ["director.error": "\(error)"])
        }
    }
}
