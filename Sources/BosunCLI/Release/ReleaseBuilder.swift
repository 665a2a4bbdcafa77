import BosunCore
import Foundation

/// Builds a release from a BOSH release directory (`config/final.yml`, `jobs/*/spec`,
/// `packages/*/spec`, `src/`, `blobs/`) the way `bosh create-release` does: job and package
/// tarballs whose fingerprints are their versions, a `release.MF` with `sha256:` digests, and on
/// request the release tarball.
struct ReleaseBuilder {
    let directory: String

    struct Artifact {
        var name: String
        var fingerprint: String
        var files: [ReleaseFile]
        /// Packages: dependencies; jobs: packages they use.
        var names: [String]
    }

    /// The release name from `config/final.yml` (`final_name`, else `name`).
    func releaseName() throws -> String {
        let path = directory + "/config/final.yml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure(message: "Expected to find release name in '\(path)'")
        }
        let yaml = try YAMLValue.parse(text, source: path)
        guard let name = yaml["final_name"]?.stringValue ?? yaml["name"]?.stringValue, !name.isEmpty else {
            throw CommandFailure(message: "Expected non-empty 'name' in config/final.yml")
        }
        return name
    }

    func packages() throws -> [Artifact] {
        try subdirectories("packages").map { name in
            let base = directory + "/packages/" + name
            let spec = try YAMLValue.parse(try String(contentsOfFile: base + "/spec", encoding: .utf8), source: "packages/\(name)/spec")
            guard spec["name"]?.stringValue == name else {
                throw CommandFailure(message: "Package directory '\(name)' does not match package name '\(spec["name"]?.stringValue ?? "")' in spec")
            }
            guard FileManager.default.fileExists(atPath: base + "/packaging") else {
                throw CommandFailure(message: "Expected to find '\(base)/packaging' for package '\(name)'")
            }
            var files = [ReleaseFile(relativePath: "packaging", absolutePath: base + "/packaging", excludeMode: true)]
            if FileManager.default.fileExists(atPath: base + "/pre_packaging") {
                files.append(ReleaseFile(relativePath: "pre_packaging", absolutePath: base + "/pre_packaging", excludeMode: true))
            }
            let patterns = spec["files"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let excluded = spec["excluded_files"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var byPath: [String: ReleaseFile] = [:]
            for pattern in patterns {
                var found = false
                for root in ["src", "blobs"] {
                    for relative in try regularFiles(under: directory + "/" + root) where ReleaseGlob.matches(pattern, relative) {
                        found = true
                        if byPath[relative] == nil {
                            byPath[relative] = ReleaseFile(relativePath: relative, absolutePath: directory + "/\(root)/" + relative)
                        }
                    }
                }
                if !found { throw CommandFailure(message: "Package '\(name)': missing files for pattern '\(pattern)'") }
            }
            for pattern in excluded { byPath = byPath.filter { !ReleaseGlob.matches(pattern, $0.key) } }
            files += byPath.values.sorted { $0.relativePath < $1.relativePath }
            let dependencies = spec["dependencies"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return Artifact(
                name: name, fingerprint: try ReleaseFingerprint.calculate(files, extraChunks: dependencies), files: files, names: dependencies)
        }
    }

    func jobs() throws -> [Artifact] {
        try subdirectories("jobs").map { name in
            let base = directory + "/jobs/" + name
            let spec = try YAMLValue.parse(try String(contentsOfFile: base + "/spec", encoding: .utf8), source: "jobs/\(name)/spec")
            guard spec["name"]?.stringValue == name else {
                throw CommandFailure(message: "Job directory '\(name)' does not match job name '\(spec["name"]?.stringValue ?? "")' in spec")
            }
            var files = [ReleaseFile(relativePath: "job.MF", absolutePath: base + "/spec")]
            for extra in ["monit", "properties_schema.json"] where FileManager.default.fileExists(atPath: base + "/" + extra) {
                files.append(ReleaseFile(relativePath: extra, absolutePath: base + "/" + extra))
            }
            for (source, _) in spec["templates"]?.mapValue ?? [:] {
                guard let source = source.stringValue else { continue }
                let path = base + "/templates/" + source
                guard FileManager.default.fileExists(atPath: path) else {
                    throw CommandFailure(message: "Job '\(name)': template '\(source)' is missing from templates/")
                }
                files.append(ReleaseFile(relativePath: "templates/" + source, absolutePath: path))
            }
            let packages = spec["packages"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return Artifact(name: name, fingerprint: try ReleaseFingerprint.calculate(files), files: files, names: packages)
        }
    }

    /// Writes `<artifact>.tgz` (the artifact's files at their archive paths) into `directory`;
    /// returns its `sha256:` digest.
    static func archive(_ artifact: Artifact, into output: String) throws -> String {
        let staging = output + "/.staging-\(artifact.name)"
        try? FileManager.default.removeItem(atPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        for file in artifact.files {
            let target = staging + "/" + file.relativePath
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file.absolutePath, toPath: target)
        }
        let tarball = output + "/\(artifact.name).tgz"
        try Tarball.create(tarball, from: staging)
        return "sha256:" + (try ReleaseFingerprint.sha256(ofFileAt: tarball))
    }

    private func subdirectories(_ kind: String) throws -> [String] {
        let path = directory + "/" + kind
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return entries.filter { entry in
            var isDirectory: ObjCBool = false
            return !entry.hasPrefix(".") && FileManager.default.fileExists(atPath: path + "/" + entry, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }

    /// Regular files under `root`, relative to it (symlinks that stay inside count as files).
    private func regularFiles(under root: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        return files.sorted()
    }
}

/// The system's tar for release archives: entries sorted, owned by root, so rebuilding the same
/// sources gives the same bytes.
enum Tarball {
    static func create(_ tarball: String, from directory: String) throws {
        let result = try BosunProcess.run(
            "/bin/tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-czf", tarball, "-C", directory, "."])
        guard result.status == 0 else { throw CommandFailure(message: "Creating '\(tarball)' failed: \(result.error)") }
    }
}
