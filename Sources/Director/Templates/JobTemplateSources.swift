import BosunCore
import Foundation

/// The ERB sources of release jobs, read from their tarballs in the blobstore (`job.MF`'s
/// `templates` map, the `monit` file), once per job version per deploy.
actor JobTemplateSources {
    let blobs: BlobStorage
    let scratch: String
    private var loaded: [Int: [TemplateSource]] = [:]

    init(blobs: BlobStorage, scratch: String) {
        self.blobs = blobs
        self.scratch = scratch
    }

    func sources(of job: TemplateRecord) async throws -> [TemplateSource] {
        guard let id = job.id else { return [] }
        if let known = loaded[id] { return known }
        guard let tarball = blobs.path(of: job.blobstoreID), FileManager.default.fileExists(atPath: tarball) else {
            throw DeployError("Job '\(job.name)/\(job.version)' is missing from the blobstore (blob \(job.blobstoreID))")
        }
        let directory = scratch + "/job-\(id)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard try await Tar.extract(tarball, into: directory) else { throw DeployError("Job '\(job.name)': its tarball does not unpack") }
        let manifest = try YAMLValue.parse(try String(contentsOfFile: directory + "/job.MF", encoding: .utf8), source: "\(job.name)/job.MF")
        var sources: [TemplateSource] = []
        if let monit = try? String(contentsOfFile: directory + "/monit", encoding: .utf8) {
            sources.append(TemplateSource(name: "monit", destination: "monit", erb: monit))
        }
        for (key, value) in manifest["templates"]?.mapValue ?? [:] {
            guard let source = key.stringValue, let destination = value.stringValue else { continue }
            guard !destination.split(separator: "/").contains(".."), !source.split(separator: "/").contains("..") else {
                throw DeployError("Job '\(job.name)': template path '\(source)' -> '\(destination)' leaves the job directory")
            }
            let erb = try String(contentsOfFile: directory + "/templates/" + source, encoding: .utf8)
            sources.append(TemplateSource(name: source, destination: destination, erb: erb))
        }
        loaded[id] = sources
        return sources
    }
}
