import AsyncHTTPClient
import Blobstore
import BosunCore
import Foundation
import Hummingbird
import NIOCore

/// A release or stemcell tarball uploaded in a request body: streamed into the state directory's
/// uploads, read by the task queued for it, and removed by that task (or by the next start).
enum UploadedTarball {
    /// The task arguments for an upload request: a tarball body (`application/x-compressed`, as
    /// the CLI sends it) is streamed to a new upload file (`path`); a JSON body `{"location",
    /// "sha1"?}` names an http(s) URL the task downloads into `path` first (`bosh upload-release URL`).
    static func receive(_ request: Request, into directory: String, kind: String) async throws -> [String: JSONValue] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory + "/\(kind)-\(UUID().uuidString.lowercased()).tgz"
        let type = request.headers[.contentType] ?? ""
        if type.hasPrefix("application/json") {
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let document = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body)),
                let location = document["location"]?.stringValue
            else {
                throw DirectorError(.badRequest, code: 100_200, "A remote \(kind) upload needs a JSON body with 'location'")
            }
            guard let url = URL(string: location), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw DirectorError(.badRequest, code: 100_200, "The \(kind) location '\(location)' is not an http(s) URL")
            }
            var arguments: [String: JSONValue] = ["path": .string(path), "location": .string(location)]
            if let sha1 = document["sha1"]?.stringValue, !sha1.isEmpty {
                guard (try? BlobDigest(sha1)) != nil else {
                    throw DirectorError(.badRequest, code: 100_200, "The \(kind) sha1 '\(sha1)' is not a digest")
                }
                arguments["sha1"] = .string(sha1)
            }
            return arguments
        }
        guard type.hasPrefix("application/x-compressed") else {
            throw DirectorError(.badRequest, code: 100_200, "Upload a \(kind) tarball as application/x-compressed, or its URL as application/json")
        }
        try await BlobFiles.write(request.body, to: path, expecting: nil, blobID: "\(kind) upload")
        return ["path": .string(path)]
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
        if let location = context.arguments["location"]?.stringValue {
            try await context.events.step(stage: stage, task: "Downloading remote \(kind)") {
                try await RemoteTarball.download(location, digest: context.arguments["sha1"]?.stringValue, to: tarball, kind: kind)
            }
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

/// A release or stemcell the director fetches itself, over http(s) with the system's trust roots,
/// following redirects (release tarballs usually sit behind one).
enum RemoteTarball {
    static func download(_ location: String, digest: String?, to path: String, kind: String) async throws {
        var request = HTTPClientRequest(url: location)
        request.method = .GET
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .minutes(30))
        } catch {
            throw DirectorError(.badRequest, code: 100_202, "Downloading remote \(kind) from \(location) failed: \(error)")
        }
        guard response.status == .ok else {
            throw DirectorError(.badRequest, code: 100_202, "Downloading remote \(kind) from \(location) failed: HTTP \(response.status.code)")
        }
        let expected: BlobDigest?
        do {
            expected = try digest.map { try BlobDigest($0) }
        } catch {
            throw DirectorError(.badRequest, code: 100_202, "The \(kind) sha1 '\(digest ?? "")' is not a digest")
        }
        do {
            try await BlobFiles.write(response.body, to: path, expecting: expected, blobID: "\(kind) tarball")
        } catch {
            throw DirectorError(.badRequest, code: 100_203, "Remote \(kind) from \(location): \(error)")
        }
    }
}

