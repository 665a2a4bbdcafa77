import AgentProtocol
import Blobstore
import BosunCore
import Foundation

extension AgentContext {
    /// The blobstore the agent uses, by BOSH's precedence: `blobstores` from `update_settings`, then
    /// `env.bosh.blobstores`, then the settings' `blobstore`.
    func blobstoreSettings() throws -> BlobstoreSettings {
        var candidates: [JSONValue] = []
        if let data = FileManager.default.contents(atPath: UpdateSettingsAction.file(paths)),
            let saved = try? JSONCoding.decoder.decode(JSONValue.self, from: data),
            case .array(let list)? = saved["blobstores"]
        {
            candidates += list
        }
        if case .array(let list)? = settings.env["bosh"]?["blobstores"] { candidates += list }
        if let blobstore = settings.blobstore { candidates.append(blobstore) }
        guard let first = candidates.first else { throw ActionError("agent settings name no blobstore") }
        do {
            return try first.decode(as: BlobstoreSettings.self)
        } catch {
            throw ActionError("agent settings have an invalid blobstore entry")
        }
    }

    /// Uploads a file the agent made (compiled package, logs) and returns its blob id and SHA-1:
    /// to a pre-signed URL when the director gave one (the id is the URL's), else to the blobstore.
    func upload(_ file: String, what: String, signedURL: String? = nil) async throws -> (id: String, sha1: String) {
        let sha1 = try await BlobFiles.digest(ofFileAt: file, algorithm: .sha1)
        do {
            if let signedURL {
                try await blobstoreSettings().makeSignedURLClient().put(fileAt: file, signedURL: signedURL)
                return (DAVBlobstoreClient.blobName(signedURL), sha1)
            }
            return (try await blobstoreSettings().makeClient().put(fileAt: file), sha1)
        } catch {
            throw ActionError("Cannot upload \(what): \(error)")
        }
    }

    func blobFetcher() -> BlobFetcher {
        BlobFetcher(paths: paths, blobstore: { [self] in try blobstoreSettings().makeClient() },
            signedURLClient: { [self] in try blobstoreSettings().makeSignedURLClient() })
    }
}
