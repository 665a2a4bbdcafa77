import AgentProtocol
import Foundation

/// How an instance's rendered templates reach its agent: through the director's blobstore, or
/// (`enable_nats_delivered_templates`) in one `upload_blob` straight into the agent's
/// `sensitive_blobs` — then the archive never touches the blobstore or any director file.
struct TemplateDelivery: Sendable {
    /// What the apply spec carries.
    var archive: ApplySpec.RenderedTemplatesArchive
    /// Over NATS: the blob each new agent gets before `prepare` or `apply`.
    var upload: UploadBlob?
    /// Over NATS: the archive sealed with the config server's key, kept for re-delivery.
    var sealed: String?

    /// Over NATS, a fresh random blob id for the archive (reference §4.3); else the blobstore's
    /// copy — the one already applied when nothing changed and it is still there.
    static func make(
        for rendered: RenderStage.Rendered, previous: ApplySpec?, configurationChanged: Bool, render: RenderStage
    ) async throws -> TemplateDelivery {
        if render.environment.natsDeliveredTemplates {
            return try overNATS(rendered.archive.bytes, sha1: rendered.archive.sha1, server: render.environment.configServer)
        }
        if !configurationChanged, let archive = previous?.renderedTemplatesArchive, render.context.blobs?.exists(archive.blobstoreID) == true {
            return TemplateDelivery(archive: archive)
        }
        return TemplateDelivery(archive: try await render.storeArchive(of: rendered))
    }

    static func overNATS(_ bytes: Data, sha1: String, server: ConfigServer) throws -> TemplateDelivery {
        let id = UUID().uuidString.lowercased()
        return TemplateDelivery(
            archive: .init(blobstoreID: id, sha1: sha1),
            upload: UploadBlob(blobID: id, checksum: sha1, payload: bytes.base64EncodedString()),
            sealed: try server.seal(data: bytes))
    }

    /// The archive an instance last applied, from its sealed copy, under the blob id its spec
    /// names (re-delivery after a reboot); nil when it went through the blobstore.
    static func resealed(_ sealed: String?, archive: ApplySpec.RenderedTemplatesArchive?, server: ConfigServer) throws -> TemplateDelivery? {
        guard let sealed, let archive else { return nil }
        let bytes = try server.open(data: sealed)
        return TemplateDelivery(
            archive: archive, upload: UploadBlob(blobID: archive.blobstoreID, checksum: archive.sha1, payload: bytes.base64EncodedString()),
            sealed: sealed)
    }

    /// Over NATS, uploads the archive to `agent`; nothing to do for the blobstore.
    func send(to agent: AgentClient) async throws {
        guard let upload else { return }
        _ = try await agent.send(.uploadBlob(upload))
    }
}
