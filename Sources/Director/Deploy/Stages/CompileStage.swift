import AgentProtocol
import BosunCore
import FluentKit
import Foundation

/// "Compiling packages" (reference §7.3): every package the deploy's jobs need that has no
/// compiled copy for its stemcell yet is compiled on a compilation VM — dependencies first,
/// independent packages in parallel on up to `workers` VMs — and kept for every later deploy.
struct CompileStage {
    let context: TaskContext
    let steps: VMSteps
    let deploymentID: Int
    let cloud: CloudConfig

    /// One package to have compiled for one stemcell.
    struct Need: Hashable {
        var package: PackageRecord
        var release: ResolvedRelease
        var stemcell: StemcellRecord

        static func == (lhs: Need, rhs: Need) -> Bool { lhs.package.id == rhs.package.id && lhs.stemcell.id == rhs.stemcell.id }
        func hash(into hasher: inout Hasher) {
            hasher.combine(package.id)
            hasher.combine(stemcell.id)
        }
    }

    /// Compiled packages by package id, per stemcell id.
    typealias Compiled = [Int: [Int: CompiledPackageRecord]]

    /// The key that makes a compiled package stale when any (transitive) dependency changes.
    static func dependencyKey(of package: PackageRecord, in release: ResolvedRelease) -> String {
        dependencyKey(release.closure(of: release.dependencies(of: package)).map { ($0.name, $0.version) })
    }

    /// The key for a package whose dependencies, transitively, are these `(name, version)`s.
    static func dependencyKey(_ closure: [(name: String, version: String)]) -> String {
        closure.map { "\($0.name)/\($0.version)" }.sorted().joined(separator: ",")
    }

    func run(_ needs: [Need]) async throws -> Compiled {
        var compiled: Compiled = [:]
        var pending: [Need] = []
        for need in Set(needs) {
            let key = Self.dependencyKey(of: need.package, in: need.release)
            if let existing = try await CompiledPackageRecord.query(on: context.database)
                .filter(\.$packageID == need.package.id!).filter(\.$stemcellOS == need.stemcell.operatingSystem)
                .filter(\.$stemcellVersion == need.stemcell.version).filter(\.$dependencyKey == key).first()
            {
                compiled[need.stemcell.id!, default: [:]][need.package.id!] = existing
            } else {
                pending.append(need)
            }
        }
        guard !pending.isEmpty else { return compiled }
        // Packages of a compiled release have no source: they cannot be compiled for another stemcell.
        let sourceless = Dictionary(grouping: pending.filter { $0.package.blobstoreID.isEmpty }) {
            "release '\($0.release.name)/\($0.release.version)' on stemcell '\($0.stemcell.operatingSystem)/\($0.stemcell.version)'"
        }
        if !sourceless.isEmpty {
            let lines = sourceless.sorted { $0.key < $1.key }.map { what, needs in
                "Can't use \(what): it references packages without source code that are not compiled for that stemcell: "
                    + needs.map { "\($0.package.name)/\($0.package.version)" }.sorted().joined(separator: ", ")
            }
            throw DeployError(lines.joined(separator: "\n"))
        }
        guard let settings = cloud.compilation else {
            throw DeployError("Packages need compiling, but the cloud config has no 'compilation' section")
        }
        let total = pending.count
        var index = 0
        // One pool of compilation VMs per stemcell: a package is compiled on the stemcell it runs on.
        for (_, needs) in Dictionary(grouping: pending, by: { $0.stemcell.id! }).sorted(by: { $0.key < $1.key }) {
            let stemcell = needs[0].stemcell
            let workers = CompilationWorkers(steps: steps, maximum: settings.workers, reuse: settings.reuseCompilationVMs) { [self] serial in
                try await self.makeCompilationVM(serial: serial, settings: settings, stemcell: stemcell)
            }
            do {
                var waiting = needs.sorted { $0.package.name < $1.package.name }
                while !waiting.isEmpty {
                    try await context.checkCancelled()
                    // Ready: every dependency is compiled (or is not among the packages still to compile).
                    let ready = waiting.filter { need in
                        need.release.dependencies(of: need.package).allSatisfy { name in !waiting.contains { $0.package.name == name } }
                    }
                    guard !ready.isEmpty else { throw DeployError("Packages depend on each other in a cycle: \(waiting.map(\.package.name))") }
                    waiting.removeAll { ready.contains($0) }
                    let known = compiled[stemcell.id!] ?? [:]
                    let first = index
                    index += ready.count
                    let done = try await withThrowingTaskGroup(of: CompiledPackageRecord.self) { group in
                        for (offset, need) in ready.enumerated() {
                            group.addTask {
                                try await context.events.step(
                                    stage: "Compiling packages", task: "\(need.package.name)/\(need.package.version)",
                                    index: first + offset + 1, total: total
                                ) {
                                    try await self.compile(need, dependencies: known, workers: workers)
                                }
                            }
                        }
                        var results: [CompiledPackageRecord] = []
                        for try await result in group { results.append(result) }
                        return results
                    }
                    for record in done { compiled[stemcell.id!, default: [:]][record.packageID] = record }
                }
            } catch {
                await workers.deleteAll()
                throw error
            }
            await workers.deleteAll()
        }
        return compiled
    }

    private func compile(_ need: Need, dependencies known: [Int: CompiledPackageRecord], workers: CompilationWorkers) async throws
        -> CompiledPackageRecord
    {
        var dependencies: [String: BlobReference] = [:]
        for package in need.release.closure(of: need.release.dependencies(of: need.package)) {
            guard let id = package.id, let compiled = known[id] else {
                throw DeployError("Package '\(need.package.name)': dependency '\(package.name)' is not compiled")
            }
            dependencies[package.name] = BlobReference(
                name: package.name, version: package.version, sha1: compiled.sha1, blobstoreID: compiled.blobstoreID)
        }
        var package = CompilePackage(
            blobstoreID: need.package.blobstoreID, sha1: need.package.sha1, name: need.package.name, version: need.package.version,
            dependencies: dependencies)
        // An agent without blobstore credentials gets a URL per blob, and one to store the result
        // under an id chosen here.
        var method = AgentMethod.compilePackage(package)
        var signedUploadID: String?
        if let urls = steps.environment.signedBlobURLs {
            let upload = urls.newUpload()
            package.dependencies = urls.signing(dependencies)
            method = .compilePackageWithSignedURL(package, sourceURL: urls.url(.get, package.blobstoreID), uploadURL: upload.url)
            signedUploadID = upload.id
        }
        let vm = try await workers.acquire()
        let reply: JSONValue
        do {
            reply = try await vm.agent.send(method)
        } catch {
            await workers.release(vm, healthy: false)
            throw DeployError("Compiling package '\(need.package.name)/\(need.package.version)': \(error)")
        }
        await workers.release(vm, healthy: true)
        guard let blobstoreID = signedUploadID ?? reply["result"]?["blobstore_id"]?.stringValue, let sha1 = reply["result"]?["sha1"]?.stringValue else {
            throw DeployError("Compiling package '\(need.package.name)': the agent's reply has no blobstore_id and sha1")
        }
        let record = CompiledPackageRecord()
        record.packageID = need.package.id!
        record.stemcellOS = need.stemcell.operatingSystem
        record.stemcellVersion = need.stemcell.version
        record.dependencyKey = Self.dependencyKey(of: need.package, in: need.release)
        record.blobstoreID = blobstoreID
        record.sha1 = sha1
        record.createdAt = Date().timeIntervalSince1970
        try await record.save(on: context.database)
        return record
    }

    /// A compilation VM on the compilation network, with an address recorded for it.
    private func makeCompilationVM(serial: Int, settings: CloudConfig.Compilation, stemcell: StemcellRecord) async throws
        -> VMSteps.CreatedVM
    {
        var cloudProperties = JSONValue(yaml: settings.cloudProperties).orEmptyObject
        if let az = settings.az, let zone = cloud.az(named: az) {
            cloudProperties = JSONValue(yaml: zone.cloudProperties).orEmptyObject.deepMerging(cloudProperties)
        }
        if let typeName = settings.vmType, let type = cloud.vmTypes.first(where: { $0.name == typeName }) {
            cloudProperties = cloudProperties.deepMerging(JSONValue(yaml: type.cloudProperties))
        }
        let (network, address) = try await AddressBook.reserveForVM(
            network: settings.network, az: settings.az, cloud: cloud, deploymentID: deploymentID, on: context.database)
        let description = VMDescription(
            stemcell: "\(stemcell.name)/\(stemcell.version)", cloudProperties: cloudProperties,
            env: JSONValue(yaml: settings.env).orEmptyObject)
        do {
            let created = try await steps.create(
                deploymentID: deploymentID, instanceID: nil, instanceName: "compilation-\(serial)", stemcellCID: stemcell.cid,
                description: description, networks: [network])
            if let address {
                address.vmID = created.record.id
                try await address.save(on: context.database)
            }
            return created
        } catch {
            try? await address?.delete(on: context.database)
            throw error
        }
    }
}
