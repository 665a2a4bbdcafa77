import BosunCore
import FluentKit
import Foundation

/// Why a deploy stopped; the message names the instance group, job, release or instance.
public struct DeployError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// One release version a manifest uses, with its jobs and packages by name.
struct ResolvedRelease: Sendable {
    var name: String
    var version: String
    var jobs: [String: TemplateRecord]
    var packages: [String: PackageRecord]

    /// A job's spec (`job.MF` as JSON).
    func spec(ofJob name: String) -> JSONValue {
        guard let record = jobs[name], let data = record.spec.data(using: .utf8) else { return [:] }
        return (try? JSONCoding.decoder.decode(JSONValue.self, from: data)) ?? [:]
    }

    /// The packages a job needs at run time: its own and, transitively, their dependencies.
    func packages(ofJob name: String) -> [PackageRecord] {
        let direct = spec(ofJob: name)["packages"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return closure(of: direct)
    }

    /// `names` and everything they depend on, each once, dependencies first.
    func closure(of names: [String]) -> [PackageRecord] {
        var ordered: [PackageRecord] = []
        var seen: Set<String> = []
        func visit(_ name: String) {
            guard !seen.contains(name), let record = packages[name] else { return }
            seen.insert(name)
            for dependency in dependencies(of: record) { visit(dependency) }
            ordered.append(record)
        }
        names.forEach(visit)
        return ordered
    }

    func dependencies(of package: PackageRecord) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(package.dependencies.utf8))) ?? []
    }
}

/// Reads what a manifest refers to from the database: release versions and stemcells.
enum DeploymentInputs {
    static func releases(
        of manifest: DeploymentManifest, on database: any Database
    ) async throws -> [String: ResolvedRelease] {
        var resolved: [String: ResolvedRelease] = [:]
        for release in manifest.releases {
            guard let record = try await ReleaseRecord.query(on: database).filter(\.$name == release.name).first(),
                let id = record.id
            else {
                throw DeployError("Release '\(release.name)' doesn't exist (upload it with 'bosun upload-release')")
            }
            let versions = try await ReleaseVersionRecord.query(on: database).filter(\.$releaseID == id).all()
            let wanted = release.version == "latest" ? BOSHVersion.latest(versions.map(\.version)) : release.version
            guard let version = versions.first(where: { $0.version == wanted }) else {
                throw DeployError("Release version '\(release.name)/\(release.version)' doesn't exist")
            }
            resolved[release.name] = try await resolve(version, name: release.name, on: database)
        }
        return resolved
    }

    /// One stored release version with its jobs and packages.
    static func resolve(
        _ version: ReleaseVersionRecord, name: String, on database: any Database
    ) async throws -> ResolvedRelease {
        let packageIDs = try JSONDecoder().decode([Int].self, from: Data(version.packageIDs.utf8))
        let templateIDs = try JSONDecoder().decode([Int].self, from: Data(version.templateIDs.utf8))
        let packages =
            packageIDs.isEmpty ? [] : try await PackageRecord.query(on: database).filter(\.$id ~~ packageIDs).all()
        let jobs =
            templateIDs.isEmpty ? [] : try await TemplateRecord.query(on: database).filter(\.$id ~~ templateIDs).all()
        return ResolvedRelease(
            name: name, version: version.version,
            jobs: Dictionary(jobs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
            packages: Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Stemcell alias → the uploaded stemcell it means (`os` or `name`, `version` or `latest`).
    static func stemcells(
        of manifest: DeploymentManifest, on database: any Database
    ) async throws -> [String: StemcellRecord] {
        let all = try await StemcellRecord.query(on: database).all()
        var resolved: [String: StemcellRecord] = [:]
        for stemcell in manifest.stemcells {
            guard let record = match(os: stemcell.os, name: stemcell.name, version: stemcell.version, in: all) else {
                let what = stemcell.os.map { "os '\($0)'" } ?? "name '\(stemcell.name ?? "")'"
                throw DeployError(
                    "Stemcell '\(stemcell.alias)' (\(what), version '\(stemcell.version)') is not uploaded")
            }
            resolved[stemcell.alias] = record
        }
        return resolved
    }

    /// The uploaded stemcell an entry names (`latest`: the highest version).
    static func match(os: String?, name: String?, version: String, in all: [StemcellRecord]) -> StemcellRecord? {
        let candidates = all.filter { record in
            (os.map { record.operatingSystem == $0 } ?? true) && (name.map { record.name == $0 } ?? true)
        }
        let wanted = version == "latest" ? BOSHVersion.latest(candidates.map(\.version)) : version
        return candidates.first { $0.version == wanted }
    }

    /// The stemcells a manifest's text names, as `name/version` sorted and joined, before the
    /// manifest is interpolated (for `update.strategy: on-stemcell-change`); unresolvable
    /// entries are left out (the deploy reports them).
    static func stemcellVersions(ofManifestText text: String, on database: any Database) async throws -> String {
        guard let document = try? YAMLValue.parse(text, source: "manifest"),
            case .array(let entries)? = document["stemcells"]
        else { return "" }
        let all = try await StemcellRecord.query(on: database).all()
        return entries.compactMap { entry -> String? in
            let version: String
            switch entry["version"] {
            case .string(let text)?: version = text
            case .int(let number)?: version = String(number)
            case .float(let number)?: version = String(number)
            case .uint(let number)?: version = String(Double(number))  // as when it was read as a float
            default: return nil
            }
            return match(os: entry["os"]?.stringValue, name: entry["name"]?.stringValue, version: version, in: all).map
            { "\($0.name)/\($0.version)" }
        }.sorted().joined(separator: ",")
    }

    /// Checks every job of every instance group exists in its release, before anything happens.
    static func checkJobs(of manifest: DeploymentManifest, in releases: [String: ResolvedRelease]) throws {
        var problems: [String] = []
        for group in manifest.instanceGroups {
            for job in group.jobs {
                guard let release = releases[job.release] else { continue }
                if release.jobs[job.name] == nil {
                    problems.append(
                        "Instance group '\(group.name)': job '\(job.name)' is not in release '\(release.name)/\(release.version)'"
                    )
                }
            }
        }
        if !problems.isEmpty { throw DeployError(problems.joined(separator: "\n")) }
    }
}
