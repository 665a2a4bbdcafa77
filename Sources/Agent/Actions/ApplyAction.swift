import AgentProtocol
import BosunCore
import Foundation

/// `apply(spec)` (reference §7.6): installs and enables the spec's packages and rendered jobs when
/// `configuration_hash` is set, removes what the spec no longer lists, deletes the NATS-delivered
/// templates blob, and saves the spec. Jobs are not started; `start` does that.
struct ApplyAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let raw = try arguments.object(0, "apply_spec")
        let spec = try ApplySpecReader.decode(raw)
        if let hash = spec.configurationHash, !hash.isEmpty {
            let packages = agent.packageInstaller()
            let jobs = agent.jobInstaller()
            let listed = spec.packages.values.sorted { $0.name < $1.name }
            try await forEachConcurrently(listed, limit: agent.downloadParallelism) { try await packages.install($0) }
            let sensitive = try await jobs.install(spec)
            do {
                for package in listed { try packages.enable(package) }
                try jobs.enable(spec)
            } catch {
                throw ActionError("apply: \(error)")
            }
            if let sensitive { unlink(sensitive.path) }
            jobs.prune(keeping: spec)
            packages.prune(keeping: listed)
        }
        try agent.saveApplied(raw, spec: spec)
        return "applied"
    }
}

/// `prepare(spec)`: downloads and unpacks the spec's packages and jobs ahead of an update, without
/// enabling anything, so the later `apply` only switches links.
struct PrepareAction: AgentAction {
    var isAsynchronous: Bool { true }

    func run(_ arguments: [JSONValue], agent: AgentContext) async throws -> JSONValue {
        let spec = try ApplySpecReader.decode(try arguments.object(0, "apply_spec"))
        let packages = agent.packageInstaller()
        try await forEachConcurrently(Array(spec.packages.values), limit: agent.downloadParallelism) {
            try await packages.install($0)
        }
        _ = try await agent.jobInstaller().install(spec)
        return "prepared"
    }
}

enum ApplySpecReader {
    static func decode(_ value: JSONValue) throws -> ApplySpec {
        do {
            return try value.decode(as: ApplySpec.self)
        } catch let error as DecodingError {
            throw ActionError("Invalid apply spec: \(describe(error))")
        }
    }

    /// "missing key job.templates" rather than Foundation's paragraph.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)) must be \(type)"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)) must be \(type), found null"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

extension AgentContext {
    var downloadParallelism: Int {
        if case .int(let count)? = settings.env["bosh"]?["parallel"], count > 0 { return count }
        return 5
    }

    func packageInstaller() -> PackageInstaller { PackageInstaller(paths: paths, fetcher: blobFetcher()) }
    func jobInstaller() -> JobInstaller { JobInstaller(paths: paths, fetcher: blobFetcher()) }

    /// Saves the spec as applied — dynamic networks filled in with the addresses the VM has — and
    /// the instance's identity files under `/var/vcap/instance`.
    func saveApplied(_ raw: JSONValue, spec: ApplySpec) throws {
        guard case .object(var saved) = raw else { return }
        if case .object(var networks)? = saved["networks"] {
            for (name, network) in spec.networks where network.type == "dynamic" {
                guard let actual = settings.networks[name], case .object(var entry)? = networks[name] else { continue }
                entry["ip"] = actual.ip.map(JSONValue.string) ?? .null
                entry["netmask"] = actual.netmask.map(JSONValue.string) ?? .null
                entry["gateway"] = actual.gateway.map(JSONValue.string) ?? .null
                networks[name] = .object(entry)
            }
            saved["networks"] = .object(networks)
        }
        do {
            try Filesystem.writePrivately(try JSONCoding.encoder.encode(JSONValue.object(saved)), to: paths.spec)
            for (file, value) in [("id", spec.id), ("az", spec.az ?? ""), ("name", spec.name), ("deployment", spec.deployment)] {
                try Data(value.utf8).write(to: URL(fileURLWithPath: paths.instance + "/" + file), options: .atomic)
            }
        } catch {
            throw ActionError("apply: cannot save the spec: \(error)")
        }
    }
}
