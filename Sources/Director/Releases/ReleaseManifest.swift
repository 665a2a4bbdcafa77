import BosunCore
import Foundation

/// `release.MF` of a release tarball: name, version, commit, and each job's and package's
/// name, version, fingerprint and digest (`sha1`: SHA-1 hex or `sha256:<hex>`), read with every
/// problem named by its field. A compiled release (`bosun export-release`) lists
/// `compiled_packages` — each compiled for `stemcell: <os>/<version>` — instead of `packages`.
struct ReleaseManifest: Sendable {
    struct Entry: Sendable {
        var name: String
        var version: String
        var fingerprint: String
        var sha1: String
        /// Packages: dependencies; jobs: the packages they use.
        var names: [String]
        /// Compiled packages: the stemcell they were compiled on, `(os, version)`.
        var stemcell: (os: String, version: String)? = nil
    }

    var name: String
    var version: String
    var commitHash: String
    var uncommittedChanges: Bool
    var jobs: [Entry]
    /// Source packages, or the compiled ones of a compiled release.
    var packages: [Entry]
    var isCompiled: Bool

    init(text: String) throws {
        let yaml: YAMLValue
        do {
            yaml = try YAMLValue.parse(text, source: "release.MF")
        } catch {
            throw DirectorError(.badRequest, code: 30_001, "release.MF: \(error.message)")
        }
        var problems: [String] = []
        func string(_ value: YAMLValue?, _ path: String) -> String {
            switch value {
            case .string(let text)? where !text.isEmpty: return text
            case .int(let number)?: return String(number)
            case .float?, .uint?: return value!.goDisplayString
            default:
                problems.append("\(path) is required")
                return ""
            }
        }
        func entries(_ key: String, names listKey: String) -> [Entry] {
            guard case .array(let items)? = yaml[key] else {
                if yaml[key] != nil && !(yaml[key]!.isNull) { problems.append("\(key) must be a list") }
                return []
            }
            return items.enumerated().map { index, item in
                let path = "\(key)[\(index)]"
                let names = (item[listKey]?.arrayValue ?? []).compactMap(\.stringValue)
                return Entry(
                    name: string(item["name"], path + ".name"), version: string(item["version"], path + ".version"),
                    fingerprint: item["fingerprint"]?.stringValue ?? "", sha1: string(item["sha1"], path + ".sha1"),
                    names: names)
            }
        }
        name = string(yaml["name"], "name")
        version = string(yaml["version"], "version")
        commitHash = yaml["commit_hash"]?.stringValue ?? ""
        uncommittedChanges = yaml["uncommitted_changes"] == .bool(true)
        jobs = entries("jobs", names: "packages")
        isCompiled = yaml["compiled_packages"] != nil && !(yaml["compiled_packages"]!.isNull)
        packages = entries(isCompiled ? "compiled_packages" : "packages", names: "dependencies")
        if isCompiled, let items = yaml["compiled_packages"]?.arrayValue {
            for (index, item) in items.enumerated() where index < packages.count {
                let parts = (item["stemcell"]?.stringValue ?? "").split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    problems.append("compiled_packages[\(index)].stemcell must be '<os>/<version>'")
                    continue
                }
                packages[index].stemcell = (parts[0], parts[1])
            }
        }
        for entry in jobs + packages where !entry.name.isEmpty {
            if entry.name.contains("/") || entry.name.hasPrefix(".") {
                problems.append("'\(entry.name)' is not a valid job or package name")
            }
        }
        let packageNames = Set(packages.map(\.name))
        for package in packages {
            for dependency in package.names where !packageNames.contains(dependency) {
                problems.append("package '\(package.name)' depends on '\(dependency)', which the release does not have")
            }
        }
        guard problems.isEmpty else {
            throw DirectorError(.badRequest, code: 30_001, "release.MF: " + problems.joined(separator: "; "))
        }
    }

    /// Every package `name` depends on, transitively, each once.
    func dependencyClosure(of name: String) -> [Entry] {
        let byName = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var seen: Set<String> = []
        var result: [Entry] = []
        func visit(_ name: String) {
            guard !seen.contains(name), let entry = byName[name] else { return }
            seen.insert(name)
            entry.names.forEach(visit)
            result.append(entry)
        }
        byName[name]?.names.forEach(visit)
        return result
    }
}
