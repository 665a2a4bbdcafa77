import AgentProtocol
import BosunCore
import Foundation
import Logging
import NATS
import NIOCore

/// Turns one NATS message into one reply: decodes the envelope, dispatches to the action, applies
/// the async task pattern, and caps the reply at the server's payload limit.
struct AgentRequestHandler: Sendable {
    let context: AgentContext
    let logger: Logger

    static let actions: [String: any AgentAction] = [
        "ping": PingAction(), "info": InfoAction(), "get_state": GetStateAction(), "get_task": GetTaskAction(),
        "cancel_task": CancelTaskAction(), "upload_blob": UploadBlobAction(), "run_script": RunScriptAction(),
        "delete_arp_entries": DeleteARPEntriesAction(), "add_persistent_disk": AddPersistentDiskAction(),
        "remove_persistent_disk": RemovePersistentDiskAction(), "mount_disk": MountDiskAction(),
        "unmount_disk": UnmountDiskAction(), "list_disk": ListDiskAction(), "migrate_disk": MigrateDiskAction(),
        "start": StartAction(), "stop": StopAction(), "drain": DrainAction(),
        "update_settings": UpdateSettingsAction(), "shutdown": ShutdownAction(), "apply": ApplyAction(),
        "prepare": PrepareAction(), "compile_package": CompilePackageAction(), "fetch_logs": FetchLogsAction(),
        "run_errand": RunErrandAction(), "sync_dns": SyncDNSAction(),
        "compile_package_with_signed_url": CompilePackageWithSignedURLAction(),
        "fetch_logs_with_signed_url": FetchLogsWithSignedURLAction(), "sync_dns_with_signed_url": SyncDNSWithSignedURLAction(),
    ]

    func handle(_ message: NATSMessage) async {
        let data = Data(message.payload.readableBytesView)
        guard let request = try? JSONCoding.decoder.decode(AgentRequest.self, from: data) else {
            // Answer even a malformed request when it says where to.
            if let replyTo = (try? JSONCoding.decoder.decode(JSONValue.self, from: data))?["reply_to"]?.stringValue {
                reply(.exception("Invalid request: expected protocol, method, arguments and reply_to"), to: replyTo)
            }
            logger.warning("Dropped a malformed request", metadata: ["agent.subject": "\(message.subject)"])
            return
        }
        logger.info("Received request", metadata: ["agent.method": "\(request.method)"])
        reply(await response(to: request), to: request.replyTo)
        if Self.actions[request.method]?.endsAgentAfterReply == true { context.requestShutdown() }
    }

    func response(to request: AgentRequest) async -> AgentResponse {
        guard let action = Self.actions[request.method] else { return .unknownMethod(request.method) }
        let arguments = request.arguments
        if action.isAsynchronous {
            let context = self.context
            let id = await context.tasks.start(persistent: action.isPersistent) { try await action.run(arguments, agent: context) }
            return .value(["agent_task_id": .string(id), "state": "running"])
        }
        do {
            return .value(try await action.run(arguments, agent: context))
        } catch {
            return .exception("\(error)")
        }
    }

    private func reply(_ response: AgentResponse, to subject: String) {
        var data = (try? JSONCoding.encoder.encode(response)) ?? Data()
        if data.count > context.nats.maxPayload {
            data = (try? JSONCoding.encoder.encode(AgentResponse.exception("Response exceeded maximum allowed length"))) ?? Data()
        }
        do {
            try context.nats.publish(ByteBuffer(bytes: data), to: subject)
        } catch {
            logger.error("Cannot send reply", metadata: ["agent.error": "\(error)"])
        }
    }
}
