import AgentProtocol
import BosunCore
import Foundation
import NATS

/// What every action may use: the settings, the layout, the task manager and the bus.
final class AgentContext: Sendable {
    let settings: AgentSettings
    let paths: AgentPaths
    let tasks = AgentTaskManager()
    let nats: NATSClient

    init(settings: AgentSettings, paths: AgentPaths, nats: NATSClient) {
        self.settings = settings
        self.paths = paths
        self.nats = nats
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

    /// `running` with no jobs to run. With jobs, the process supervisor decides (it arrives with the
    /// next step of this agent); until then the agent says it does not know rather than guess.
    func jobState() -> String {
        appliedJobNames().isEmpty ? "running" : "unknown"
    }
}
