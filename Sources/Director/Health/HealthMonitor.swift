import AgentProtocol
import BosunCore
import FluentKit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The director's health monitor (reference §8), a service of its own: it hears every agent's
/// heartbeats, alerts (recorded as events) and shutdown notices, knows from the database which agents should be there, and
/// every `analysis_interval` finds those silent for longer than `agent_timeout`. Each finding is
/// an event; unless the deployment is locked (being updated) or in meltdown, the resurrector
/// queues a `scan_and_fix` task for its dead instances. A heartbeat reporting
/// `templates_missing` (a tmpfs VM after a reboot) queues a `restore_templates` task instead.
public final class HealthMonitor: Service, Sendable {
    let hub: AgentHub
    let tasks: TaskRunner
    let database: any Database
    let settings: HealthMonitorSettings
    let resurrection: ResurrectionSwitch
    let board: HealthBoard
    let logger: Logger
    let state = Mutex(AgentTracking())

    /// What the monitor knows of agents, by agent id.
    struct AgentTracking {
        /// When each agent was last heard (or first expected: a new agent gets a full timeout).
        var lastSeen: [String: ContinuousClock.Instant] = [:]
        /// Agents that announced their shutdown: not timed out until a VM row wants them again.
        var shutDown: Set<String> = []
        /// Instances (`deployment/group/uuid`) found down, with when — the meltdown window.
        var downSince: [String: Date] = [:]
        /// Instances down now and already reported: one that answers again leaves it, so its
        /// next outage is reported (and decided on) afresh.
        var reportedDown: Set<String> = []
        /// Deployments whose meltdown was already announced.
        var inMeltdown: Set<String> = []
    }

    public init(
        hub: AgentHub, tasks: TaskRunner, database: any Database, settings: HealthMonitorSettings, stateDirectory: String,
        board: HealthBoard, logger: Logger
    ) {
        self.board = board
        self.hub = hub
        self.tasks = tasks
        self.database = database
        self.settings = settings
        self.resurrection = ResurrectionSwitch(stateDirectory: stateDirectory)
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.listen(to: "hm.agent.heartbeat.*") { try await self.heard($0) } }
                group.addTask { await self.listen(to: "hm.agent.shutdown.*") { self.shutDown(agentID: $0.agentID) } }
                group.addTask { await self.listen(to: "hm.agent.alert.*") { try await self.alerted($0) } }
                group.addTask { await self.analyzeForever() }
            }
        }
    }

    struct Heard: Sendable {
        var agentID: String
        var payload: Data
    }

    /// Handles every message on `subject`, subscribing again if the bus drops the subscription.
    private func listen(to subject: String, _ handle: @escaping @Sendable (Heard) async throws -> Void) async {
        while !Task.isCancelled {
            do {
                for try await message in try await hub.subscribe(to: subject) {
                    let agentID = String(message.subject.split(separator: ".").last ?? "")
                    try? await handle(Heard(agentID: agentID, payload: Data(message.payload.readableBytesView)))
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("Subscription to \(subject) ended; subscribing again", metadata: ["director.error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func heard(_ heard: Heard) async throws {
        let now = ContinuousClock.now
        state.withLock {
            $0.lastSeen[heard.agentID] = now
            $0.shutDown.remove(heard.agentID)
        }
        let heartbeat = try JSONCoding.decoder.decode(Heartbeat.self, from: heard.payload)
        board.heard(agentID: heard.agentID, jobState: heartbeat.jobState)
        if heartbeat.jobState == "templates_missing" { await queueRestore(heartbeat, agentID: heard.agentID) }
    }

    /// An agent's alert (a job's process failed and was restarted) becomes an event on its
    /// instance.
    private func alerted(_ heard: Heard) async throws {
        let alert = try JSONCoding.decoder.decode(AgentAlert.self, from: heard.payload)
        guard let vm = try await VMRecord.query(on: database).filter(\.$agentID == heard.agentID).first(), let id = vm.instanceID,
            let instance = try await InstanceRecord.find(id, on: database),
            let deployment = try await DeploymentRecord.find(instance.deploymentID, on: database)
        else { return }
        let name = "\(instance.group)/\(instance.uuid)"
        try await EventRecorder(database: database).record(
            user: "health_monitor", action: "alert", objectType: "instance", objectName: name, deployment: deployment.name, instance: name,
            context: ["severity": .int(alert.severity.rawValue), "title": .string(alert.title), "summary": .string(alert.summary)])
    }

    func shutDown(agentID: String) {
        _ = state.withLock { $0.shutDown.insert(agentID) }
    }

    /// A `restore_templates` task, unless one for that agent is queued or running (heartbeats
    /// are handled one after another, so the check sees the task the previous one queued). A
    /// restore that failed is tried again at the agent's next heartbeat.
    func queueRestore(_ heartbeat: Heartbeat, agentID: String) async {
        guard let deployment = heartbeat.deployment, !agentID.isEmpty else { return }
        do {
            let open = try await TaskRecord.open("restore_templates", on: database)
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

    private func analyzeForever() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: settings.analysisInterval)
                try await analyze()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("Agent analysis failed", metadata: ["director.error": "\(error)"])
            }
        }
    }
}
