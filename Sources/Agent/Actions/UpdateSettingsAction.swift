import AgentProtocol
import BosunCore
import Foundation
import NIOCore

/// `update_settings({trusted_certs, disk_associations, …})` (reference §2.5): the settings the
/// director adds after the VM exists. The agent keeps them in `/var/vcap/bosh/update_settings.json`
/// (0600: an `mbus` section may carry a private key), installs each trusted certificate in the
/// system store (``SystemTrustStore``) and keeps a copy in `/var/vcap/bosh/trusted_certs/`, and links every associated disk as
/// `/var/vcap/instance/disks/<name>` to the device its hint names. Everything is checked before
/// anything is written, so a bad request changes nothing.
struct UpdateSettingsAction: AgentAction {
    var isAsynchronous: Bool { true }
    var isPersistent: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let settings = try arguments.object(0, "settings")
        let certificates = try Self.certificates(settings["trusted_certs"])
        let links = try Self.diskLinks(settings["disk_associations"], paths: agent.paths)
        let changed = Self.connectionChanges(settings, agent: agent)

        try await SystemTrustStore(hostRoot: agent.paths.hostRoot).replace(with: certificates)
        let data = try JSONCoding.encoder.encode(settings)
        try Filesystem.writePrivately(data, to: Self.file(agent.paths))
        try SystemTrustStore.write(certificates, into: agent.paths.bosh + "/trusted_certs")
        try Self.replaceDiskLinks(links, in: agent.paths.instance + "/disks")
        if !changed.isEmpty { agent.restartSoon(reason: changed.joined(separator: " and ") + " changed") }
        return "ok"
    }

    /// Which of the agent's connections (`mbus` certificate, `blobstores`) the new settings change,
    /// compared with what the agent uses now: earlier update_settings, else its VM settings.
    static func connectionChanges(_ new: JSONValue, agent: AgentContext) -> [String] {
        let previous = FileManager.default.contents(atPath: file(agent.paths))
            .flatMap { try? JSONCoding.decoder.decode(JSONValue.self, from: $0) }
        let bosh = agent.settings.env["bosh"]
        var changed: [String] = []
        if let cert = new["mbus"]?["cert"], cert != (previous?["mbus"]?["cert"] ?? bosh?["mbus"]?["cert"]) {
            changed.append("mbus")
        }
        let currentBlobstores = previous?["blobstores"] ?? bosh?["blobstores"] ?? agent.settings.blobstore.map { .array([$0]) }
        if let blobstores = new["blobstores"], blobstores != currentBlobstores {
            changed.append("blobstores")
        }
        return changed
    }

    static func file(_ paths: AgentPaths) -> String { paths.bosh + "/update_settings.json" }

    /// The PEM blocks of `trusted_certs`, in order.
    static func certificates(_ value: JSONValue?) throws -> [String] {
        guard let value, value != .null else { return [] }
        guard let text = value.stringValue else { throw ActionError("update_settings: trusted_certs must be a string of PEM certificates") }
        let end = "-----END CERTIFICATE-----"
        var blocks: [String] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----") {
            guard let close = rest.range(of: end, range: begin.upperBound..<rest.endIndex) else {
                throw ActionError("update_settings: trusted_certs has a certificate without its END line")
            }
            blocks.append(String(rest[begin.lowerBound..<close.upperBound]) + "\n")
            rest = rest[close.upperBound...]
        }
        if blocks.isEmpty && !text.allSatisfy(\.isWhitespace) {
            throw ActionError("update_settings: trusted_certs holds no PEM certificate")
        }
        return blocks
    }

    /// `name → device` for every association; each name must be a plain file name and each disk known.
    static func diskLinks(_ value: JSONValue?, paths: AgentPaths) throws -> [(name: String, device: String)] {
        guard let value, value != .null else { return [] }
        guard case .array(let associations) = value else { throw ActionError("update_settings: disk_associations must be a list") }
        return try associations.enumerated().map { index, association in
            guard let name = association["name"]?.stringValue, let cid = association["cid"]?.stringValue else {
                throw ActionError("update_settings: disk_associations[\(index)] needs a name and a cid")
            }
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw ActionError("update_settings: disk_associations[\(index)].name '\(name)' is not a valid disk name")
            }
            return (name, try PersistentDisks.device(for: cid, paths))
        }
    }

    private static func removeEntries(of directory: String, where matches: (String) -> Bool) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where matches(name) {
            unlink(directory + "/" + name)
        }
    }

    /// Links the associated disks and removes links to disks no longer associated.
    private static func replaceDiskLinks(_ links: [(name: String, device: String)], in directory: String) throws {
        try Filesystem.makeDirectory(directory, mode: 0o755)
        let wanted = Set(links.map(\.name))
        removeEntries(of: directory) { !wanted.contains($0) }
        for link in links {
            let path = directory + "/" + link.name
            unlink(path)
            guard symlink(link.device, path) == 0 else {
                throw ActionError("update_settings: cannot link \(path) to \(link.device): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// `shutdown` (reference §2.5): tells the health monitor the agent is going away
/// (`hm.agent.shutdown.<agent_id>`, payload `null`); after the reply is sent the agent stops every
/// job and exits, which powers off a local-CPI VM (the agent is its PID 1) — BOSH runs `shutdown -P 0`.
struct ShutdownAction: AgentAction {
    var endsAgentAfterReply: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        try? agent.nats.publish(ByteBuffer(bytes: Array("null".utf8)), to: AgentSubjects.shutdown(agentID: agent.settings.agentID))
        return "ok"
    }
}
