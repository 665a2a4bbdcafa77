import ArgumentParser
import BosunCore
import Foundation

/// `bosun create-release [--dir DIR] [--force] [--tarball PATH] [--version V] [--name N]`: builds
/// a dev release of a release directory, offline, as `bosh create-release` does — versions
/// `0+dev.N`, counting up from what `dev_releases/<name>/` holds; refuses uncommitted git
/// changes unless `--force`.
struct CreateReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-release", abstract: "Create release", aliases: ["cr"])
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Release directory path if not current working directory") var dir: String?
    @Option(name: .long, help: "Custom release name") var name: String?
    @Option(name: .long, help: "Custom release version (e.g.: 1.0.0, 1.0-beta.2+dev.10)") var version: String?
    @Option(name: .long, help: "Create release tarball at path (e.g. /tmp/release.tgz)") var tarball: String?
    @Flag(name: .long, help: "Ignore Git dirty state check") var force = false

    func run() throws {
        let output = CommandOutput(json: global.resolved(environment: ProcessInfo.processInfo.environment).json)
        do {
            try create(output: output)
            output.succeed()
        } catch {
            throw error.report()
        }
    }

    func create(output: CommandOutput) throws {
        let directory = URL(fileURLWithPath: dir ?? FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let builder = ReleaseBuilder(directory: directory)
        let releaseName = try name ?? builder.releaseName()
        let (commit, dirty) = try Self.gitState(directory)
        if dirty && !force {
            throw CommandFailure(message: "Your current directory has some local modifications, please discard or commit them first.\n\nUse the --force option to skip this prompt.")
        }
        let packages = try builder.packages()
        let jobs = try builder.jobs()
        let packageNames = Set(packages.map(\.name))
        for job in jobs {
            for package in job.names where !packageNames.contains(package) {
                throw CommandFailure(message: "Job '\(job.name)' requires '\(package)' which is not a package of this release")
            }
        }
        for package in packages {
            for dependency in package.names where !packageNames.contains(dependency) {
                throw CommandFailure(message: "Package '\(package.name)' depends on '\(dependency)' which is not a package of this release")
            }
        }
        let releases = directory + "/dev_releases/" + releaseName
        let releaseVersion = try version ?? Self.nextDevVersion(in: releases, name: releaseName)

        var manifestJobs: [YAMLValue] = []
        var manifestPackages: [YAMLValue] = []
        var archives: [(kind: String, name: String, path: String)] = []
        for (kind, artifacts) in [("packages", packages), ("jobs", jobs)] {
            for artifact in artifacts {
                let store = directory + "/.dev_builds/\(kind)/\(artifact.name)"
                try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
                let digest = try ReleaseBuilder.archive(artifact, into: store)
                let path = store + "/\(artifact.fingerprint).tgz"
                try? FileManager.default.removeItem(atPath: path)
                try FileManager.default.moveItem(atPath: store + "/\(artifact.name).tgz", toPath: path)
                archives.append((kind, artifact.name, path))
                var entry: YAMLMap = [
                    "name": .string(artifact.name), "version": .string(artifact.fingerprint),
                    "fingerprint": .string(artifact.fingerprint), "sha1": .string(digest),
                ]
                if kind == "jobs" {
                    entry["packages"] = .array(artifact.names.map(YAMLValue.string))
                    manifestJobs.append(.map(entry))
                } else {
                    entry["dependencies"] = .array(artifact.names.sorted().map(YAMLValue.string))
                    manifestPackages.append(.map(entry))
                }
                output.line("Added \(kind == "jobs" ? "job" : "package") '\(artifact.name)/\(artifact.fingerprint)'")
            }
        }
        let manifest: YAMLValue = .map([
            "name": .string(releaseName), "version": .string(releaseVersion), "commit_hash": .string(commit),
            "uncommitted_changes": .bool(dirty), "jobs": .array(manifestJobs), "packages": .array(manifestPackages),
        ])
        let manifestText = "---\n" + manifest.yamlText()
        try FileManager.default.createDirectory(atPath: releases, withIntermediateDirectories: true)
        let manifestPath = releases + "/\(releaseName)-\(releaseVersion).yml"
        try manifestText.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        output.line("")
        output.table(
            "release", columns: ["Name", "Version", "Commit Hash"], rows: [[releaseName, releaseVersion, commit + (dirty ? "+" : "")]])
        if let tarball {
            let target = URL(fileURLWithPath: tarball, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path
            let staging = NSTemporaryDirectory() + "bosun-release-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: staging) }
            for kind in ["jobs", "packages"] { try FileManager.default.createDirectory(atPath: staging + "/" + kind, withIntermediateDirectories: true) }
            try manifestText.write(toFile: staging + "/release.MF", atomically: true, encoding: .utf8)
            for archive in archives {
                try FileManager.default.copyItem(atPath: archive.path, toPath: staging + "/\(archive.kind)/\(archive.name).tgz")
            }
            try Tarball.create(target, from: staging)
            output.line("Release tarball: \(target)")
        } else {
            output.line("Release manifest: \(manifestPath)")
        }
    }

    /// `0+dev.N` after the highest N in `dev_releases/<name>/`.
    static func nextDevVersion(in directory: String, name: String) throws -> String {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let prefix = "\(name)-0+dev."
        let numbers = entries.compactMap { entry -> Int? in
            guard entry.hasPrefix(prefix), entry.hasSuffix(".yml") else { return nil }
            return Int(entry.dropFirst(prefix.count).dropLast(4))
        }
        return "0+dev.\((numbers.max() ?? 0) + 1)"
    }

    /// The short commit and whether the tree has changes; `non-git` outside a repository.
    static func gitState(_ directory: String) throws -> (String, Bool) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git"),
            let head = try? BosunProcess.run("/usr/bin/git", ["rev-parse", "--short", "HEAD"], in: directory), head.status == 0
        else { return ("non-git", false) }
        let status = try BosunProcess.run("/usr/bin/git", ["status", "--porcelain", "--", "."], in: directory)
        // What create-release writes itself does not make the tree dirty.
        let changes = status.output.split(separator: "\n").filter { !$0.contains("dev_releases/") && !$0.contains(".dev_builds/") }
        return (head.output.trimmingCharacters(in: .whitespacesAndNewlines), !changes.isEmpty)
    }
}
