import AgentProtocol
import Foundation

/// Rendered jobs under `data/jobs/<job>/<sha1(version-archiveSHA1)>`, enabled by the link
/// `jobs/<job>` (reference §7.6 step 2). The rendered archive holds credentials, so it is unpacked
/// inside `data/jobs` — the tmpfs when `job_dir.tmpfs` is on — and never elsewhere on disk.
struct JobInstaller: Sendable {
    let paths: AgentPaths
    let fetcher: BlobFetcher

    func directory(of job: BlobReference, archive: ApplySpec.RenderedTemplatesArchive) -> String {
        paths.dataJobs + "/" + job.name + "/" + SHA1.hex(Data("\(job.version)-\(archive.sha1)".utf8))
    }

    /// Unpacks each job of `spec` that is not yet installed. Returns the sensitive blob the archive
    /// came from, if it came over NATS, for the caller to delete once the jobs are enabled.
    func install(_ spec: ApplySpec) async throws -> BlobFetcher.Fetched? {
        let jobs = spec.job.templates
        guard !jobs.isEmpty else { return nil }
        guard let archive = spec.renderedTemplatesArchive else {
            throw ActionError("apply spec lists jobs but no rendered_templates_archive")
        }
        for job in jobs { try PackageInstaller.checkName(job.name, kind: "job") }
        let missing = jobs.filter { !FileManager.default.fileExists(atPath: directory(of: $0, archive: archive)) }
        guard !missing.isEmpty else {
            // Installed already (by `prepare`); only the NATS copy may still need deleting.
            let sensitive = paths.sensitiveBlobs + "/" + archive.blobstoreID
            return FileManager.default.fileExists(atPath: sensitive) ? .init(path: sensitive, isDownloaded: false, isSensitive: true) : nil
        }
        let blob = try await fetcher.fetch(archive.blobstoreID, digest: archive.sha1, what: "rendered templates", signedURL: archive.signedURL)
        defer { blob.discard() }
        let staging = paths.dataJobs + "/.unpacking-" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try await TarArchive.extract(blob.path, into: staging)
        let group = Self.vcapGroup()
        for job in missing {
            let unpacked = staging + "/" + job.name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: unpacked, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ActionError("rendered templates archive has no directory for job \(job.name)")
            }
            try Self.setPermissions(under: unpacked, group: group)
            let target = directory(of: job, archive: archive)
            try Filesystem.makeDirectory(paths.dataJobs + "/" + job.name, mode: 0o750)
            guard rename(unpacked, target) == 0 else { throw ActionError("job \(job.name): cannot move into \(target)") }
        }
        return blob.isSensitive ? blob : nil
    }

    /// Links `jobs/<job>` to the installed version, gives the job its log, run and data
    /// directories, and links every package of the spec under the job's `packages/`.
    func enable(_ spec: ApplySpec) throws {
        guard let archive = spec.renderedTemplatesArchive else { return }
        for job in spec.job.templates {
            let target = directory(of: job, archive: archive)
            for directory in [paths.sysLog + "/" + job.name, paths.sysRun + "/" + job.name, paths.data + "/" + job.name] {
                try Filesystem.makeDirectory(directory, mode: 0o770)
            }
            try Filesystem.makeDirectory(target + "/packages", mode: 0o750)
            for name in spec.packages.keys {
                try Filesystem.replaceSymlink(at: target + "/packages/" + name, pointingTo: paths.packages + "/" + name)
            }
            try Filesystem.replaceSymlink(at: paths.job(job.name), pointingTo: target)
        }
    }

    /// Removes jobs that are not in `spec` and older versions of those that are.
    func prune(keeping spec: ApplySpec) {
        let wanted = Dictionary(
            spec.job.templates.map { job in
                (job.name, spec.renderedTemplatesArchive.map { URL(fileURLWithPath: directory(of: job, archive: $0)).lastPathComponent } ?? "")
            }, uniquingKeysWith: { a, _ in a })
        InstalledVersions(links: paths.jobs, versions: paths.dataJobs).prune(keeping: wanted)
    }

    /// BOSH's modes: owner root, group vcap; directories and `bin/*` 0750, other files 0640.
    static func setPermissions(under root: String, group: gid_t?) throws {
        var failures: [String] = []
        func apply(_ path: String, _ mode: mode_t) {
            if chmod(path, mode) != 0 { failures.append(path) }
            if let group, chown(path, 0, group) != 0 { failures.append(path) }
        }
        apply(root, 0o750)
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK else { continue }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            apply(path, isDirectory || relative.hasPrefix("bin/") ? 0o750 : 0o640)
        }
        if !failures.isEmpty { throw ActionError("cannot set permissions on \(failures.first!)") }
    }

    /// The `vcap` group when the system has one (stemcells do); nil leaves files with root's group.
    static func vcapGroup() -> gid_t? {
        guard let entry = getgrnam("vcap") else { return nil }
        return entry.pointee.gr_gid
    }
}
