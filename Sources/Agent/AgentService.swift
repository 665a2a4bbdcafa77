import AgentProtocol
import BosunCore
import Foundation
import Logging
import NATS
import NIOCore
import ServiceLifecycle

/// The agent's long-running work: answer requests on `agent.<agent_id>`, send heartbeats, rotate
/// logs, trim its resident set.
public final class AgentService: Service {
    let context: AgentContext
    let logger: Logger
    let heartbeatInterval: Duration
    let logRotationInterval: Duration
    let trimInterval: Duration?

    init(context: AgentContext, logger: Logger, heartbeatInterval: Duration, logRotationInterval: Duration, trimInterval: Duration?) {
        self.context = context
        self.logger = logger
        self.heartbeatInterval = heartbeatInterval
        self.logRotationInterval = logRotationInterval
        self.trimInterval = trimInterval
    }

    /// Ends on graceful shutdown, when the request subscription ends, or after a `shutdown` request
    /// (then with every job stopped first).
    public func run() async throws {
        let inbox = try await context.nats.subscribe(to: AgentSubjects.inbox(agentID: context.settings.agentID))
        let handler = AgentRequestHandler(context: context, logger: logger)
        let context = self.context
        let logger = self.logger
        await context.remountPersistentDiskAfterBoot(logger: logger)
        await context.startJobsAfterBoot(logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.heartbeats()
            }
            group.addTask {
                await self.logRotations()
            }
            if let trimInterval = self.trimInterval {
                group.addTask {
                    await ResidentSetTrimming.run(every: trimInterval, logger: logger)
                }
            }
            group.addTask {
                await withDiscardingTaskGroup { requests in
                    do {
                        for try await message in inbox {
                            requests.addTask { await handler.handle(message) }
                        }
                    } catch {
                        logger.error("Request subscription ended", metadata: ["agent.error": "\(error)"])
                    }
                }
                context.requestShutdown()  // nothing more can reach the agent
            }
            let asked = await cancelWhenGracefulShutdown {
                for await _ in context.shutdownRequests { return true }
                return false
            }
            if asked && !Task.isShuttingDownGracefully {
                logger.info("Shutting down: stopping jobs")
                try? await context.nats.flush()
                await context.supervisor.stopAll()
                logger.info("Shutting down: jobs stopped")
            }
            group.cancelAll()
        }
    }

    /// One heartbeat at start, then one every interval, until shutdown.
    private func heartbeats() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await publishHeartbeat()
            try? await Task.sleep(for: heartbeatInterval)
        }
    }

    /// A look at the log sizes every interval, with the limit of the spec applied at that moment.
    private func logRotations() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: logRotationInterval)
            let rotation = LogRotation(
                jobLogs: context.paths.sysLog, extraFiles: [context.paths.log + "/current"],
                maxSize: LogRotation.maxSize(spec: context.appliedSpec()))
            for path in await rotation.rotateOversized() {
                logger.info("Rotated log", metadata: ["agent.log": "\(path)", "agent.limit_bytes": "\(rotation.maxSize)"])
            }
        }
    }

    func publishHeartbeat() async {
        let spec = context.appliedSpec()
        let snapshot = await context.stateSnapshot(spec: spec)
        let heartbeat = Heartbeat(
            deployment: spec["deployment"]?.stringValue, job: spec["name"]?.stringValue ?? spec["job"]?["name"]?.stringValue,
            index: { if case .int(let i)? = spec["index"] { return i } else { return nil } }(),
            jobState: snapshot.jobState, vitals: Vitals.current(paths: context.paths), nodeID: spec["id"]?.stringValue,
            numberOfProcesses: snapshot.processes.count)
        guard let data = try? JSONCoding.encoder.encode(heartbeat) else { return }
        try? context.nats.publish(ByteBuffer(bytes: data), to: AgentSubjects.heartbeat(agentID: context.settings.agentID))
    }
}
