import AgentProtocol
import BosunCore
import Foundation

/// Before any VM is touched: every instance's rendered templates must fit its job directory
/// tmpfs (`env.bosh.job_dir.tmpfs_size`), and with templates over NATS the `upload_blob` message
/// must fit the bus's `max_payload`. BOSH finds out on the VM, mid-deploy; Bosun refuses the
/// deploy up front, naming the instance, the sizes and the setting to raise.
struct TemplateSizeCheck {
    let environment: DeployEnvironment

    /// tmpfs gives each file whole pages.
    static let pageSize = 4096

    func problems(_ plan: DeploymentPlan, rendered: [String: RenderStage.Rendered]) -> [String] {
        var problems: [String] = []
        for instance in plan.allInstances {
            guard let output = rendered[instance.id] else { continue }
            let jobDir = environment.effectiveBosh(groupEnv: instance.vm.env)["job_dir"]
            if jobDir?["tmpfs"] == .bool(true) {
                let setting = jobDir?["tmpfs_size"]
                let limit = Self.bytes(of: setting) ?? (setting == nil ? 100 << 20 : nil)
                if let limit, output.archive.tmpfsBytes > limit {
                    problems.append(
                        "'\(instance.displayName)': its rendered templates take \(Self.size(output.archive.tmpfsBytes)) in the job directory tmpfs, "
                            + "more than env.bosh.job_dir.tmpfs_size \(setting?.compactDescription ?? "100m (the default)"); "
                            + "raise env.bosh.job_dir.tmpfs_size of instance group '\(instance.group)'")
                }
            }
            if environment.natsDeliveredTemplates {
                let message = Self.uploadMessageBytes(archiveBytes: output.archive.bytes.count)
                if message > environment.natsMaxPayloadBytes {
                    problems.append(
                        "'\(instance.displayName)': its templates make a \(Self.size(message)) upload_blob message, more than NATS max_payload "
                            + "\(Self.size(environment.natsMaxPayloadBytes)); raise nats.max_payload_mb in the director's config")
                }
            }
        }
        return problems
    }

    func check(_ plan: DeploymentPlan, rendered: [String: RenderStage.Rendered]) throws {
        let found = problems(plan, rendered: rendered)
        guard !found.isEmpty else { return }
        throw DeployError(
            "Rendered templates do not fit (\(found.count) instance\(found.count == 1 ? "" : "s")); nothing was changed:\n"
                + found.map { "  - \($0)" }.joined(separator: "\n"))
    }

    /// The size of the NATS message that carries an archive: the request envelope as the agent
    /// client encodes it, with a payload of the archive's base64 length.
    static func uploadMessageBytes(archiveBytes: Int) -> Int {
        envelopeBytes + (archiveBytes + 2) / 3 * 4
    }

    /// The request around an empty payload, encoded once.
    static let envelopeBytes: Int = {
        let request = AgentRequest(
            method: .uploadBlob(UploadBlob(blobID: UUID().uuidString, checksum: String(repeating: "0", count: 40), payload: "")),
            replyTo: "director.\(UUID().uuidString).\(UUID().uuidString).\(UUID().uuidString)")
        return (try? JSONCoding.encoder.encode(request).count) ?? 512
    }()

    /// `mount -o size=` values: bytes, or a number with k, m or g; nil for what cannot be judged
    /// here (a percentage of RAM).
    static func bytes(of setting: JSONValue?) -> Int? {
        switch setting {
        case .int(let bytes)?: return bytes
        case .string(let text)?:
            let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
            let units: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
            if let last = lower.last, let unit = units[last], let number = Int(lower.dropLast()) { return number * unit }
            return Int(lower)
        default: return nil
        }
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20
            ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
            : String(format: "%.1f KiB", Double(bytes) / Double(1 << 10))
    }
}
