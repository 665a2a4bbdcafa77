import Blobstore
import Foundation
import Hummingbird

/// A release or stemcell tarball uploaded in a request body: streamed into the state directory's
/// uploads, read by the task queued for it, and removed by that task (or by the next start).
enum UploadedTarball {
    /// Streams the body (`application/x-compressed`, as the CLI sends it) to a new upload file.
    static func receive(_ request: Request, into directory: String, kind: String) async throws -> String {
        guard request.headers[.contentType]?.hasPrefix("application/x-compressed") == true else {
            throw DirectorError(.badRequest, code: 100_200, "Upload a \(kind) tarball as application/x-compressed (URLs are not supported yet)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory + "/\(kind)-\(UUID().uuidString.lowercased()).tgz"
        try await BlobFiles.write(request.body, to: path, expecting: nil, blobID: "\(kind) upload")
        return path
    }

    /// Unpacks the task's upload (`arguments.path`) as its first step, runs `body` with the
    /// unpacked directory, and removes both afterwards.
    static func withUnpacked<T: Sendable>(
        _ context: TaskContext, stage: String, step: String, kind: String, _ body: (String) async throws -> T
    ) async throws -> T {
        guard let tarball = context.arguments["path"]?.stringValue else { throw DirectorError(.badRequest, code: 100_200, "No \(kind) upload") }
        let staging = tarball + ".unpacked"
        defer {
            try? FileManager.default.removeItem(atPath: tarball)
            try? FileManager.default.removeItem(atPath: staging)
        }
        try await context.events.step(stage: stage, task: step) {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            guard try await Tar.extract(tarball, into: staging) else {
                throw DirectorError(.badRequest, code: 100_201, "The \(kind) is not a valid tarball")
            }
        }
        return try await body(staging)
    }
}
