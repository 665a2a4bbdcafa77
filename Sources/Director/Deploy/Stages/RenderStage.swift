import AgentProtocol
import Blobstore
import BosunCore
import Crypto
import Foundation

/// "Rendering templates": every job of every planned instance rendered in one Ruby process,
/// before any VM is touched (reference §1.2 step 4); a template error fails the deploy here,
/// with every error of a job in one message. Each instance gets its apply spec and a
/// configuration hash; instances whose hash changed get a fresh rendered-templates archive.
struct RenderStage {
    let context: TaskContext
    let environment: DeployEnvironment
    let deploymentName: String
    let manifest: DeploymentManifest
    let releases: [String: ResolvedRelease]
    let stemcells: [String: StemcellRecord]
    var compiled: CompileStage.Compiled
    /// Secret values, kept out of error messages.
    let secrets: [String]
    /// A dry run renders before anything is compiled: packages get a placeholder blob.
    var packagesMayBeUncompiled = false

    struct Rendered: Sendable {
        var spec: ApplySpec
        var configurationHash: String
        /// The rendered jobs as agents unpack them, built in memory.
        var archive: RenderedArchive
    }

    /// The links of the plan's jobs, given what other deployments share, and the resolved
    /// properties of every job by `group/job`.
    func linkResolver(
        _ plan: DeploymentPlan, shared: [String: [SharedLink]] = [:]
    ) -> (LinkResolver, [String: JSONValue]) {
        var linkJobs: [LinkResolver.Job] = []
        var properties: [String: JSONValue] = [:]
        for group in manifest.instanceGroups where group.lifecycle == .service {
            for job in group.jobs {
                guard let release = releases[job.release] else { continue }
                let spec = release.spec(ofJob: job.name)
                let provided = JSONValue(yaml: job.properties ?? group.properties).orEmptyObject
                let declared =
                    spec["properties"].flatMap { value -> [String: JSONValue]? in
                        if case .object(let object) = value { object } else { nil }
                    } ?? [:]
                let resolved = JobProperties.resolve(declared: declared, provided: provided)
                properties["\(group.name)/\(job.name)"] = resolved
                linkJobs.append(
                    LinkResolver.Job(
                        group: group.name, name: job.name, spec: spec, manifestConsumes: JSONValue(yaml: job.consumes),
                        manifestProvides: JSONValue(yaml: job.provides), properties: resolved))
            }
        }
        var linkInstances: [String: [LinkResolver.LinkInstance]] = [:]
        var groupAddresses: [String: String] = [:]
        for group in plan.instanceGroups {
            linkInstances[group.name] = group.instances.map {
                .init(
                    name: $0.group, index: $0.index, id: $0.id, az: $0.az, address: address(of: $0),
                    bootstrap: $0.bootstrap)
            }
            if usesDNSAddresses, let network = group.instances.first?.addressNetwork {
                groupAddresses[group.name] = DNSNames.groupQuery(
                    group: group.name, network: network.name, deployment: deploymentName)
            }
        }
        var resolver = LinkResolver(
            jobs: linkJobs, instances: linkInstances, deploymentName: deploymentName, shared: shared)
        resolver.groupAddresses = groupAddresses
        return (resolver, properties)
    }

    /// `features.use_dns_addresses`: links and `spec.address` carry DNS names, not IPs.
    var usesDNSAddresses: Bool { manifest.features.useDNSAddresses == true }

    /// What links and `spec.address` say an instance is reached at.
    func address(of instance: InstancePlan) -> String? {
        usesDNSAddresses ? instance.dnsName(deployment: deploymentName) : instance.address?.description
    }

    /// Every job's resolved properties (by `group/job`) and links, within the deployment and
    /// against what other deployments share.
    struct ResolvedLinks: Sendable {
        var properties: [String: JSONValue]
        var links: [String: [String: JSONValue]]
    }

    /// Resolves every job's links, failing with all the problems; nothing is rendered. A deploy
    /// calls it before compiling and hands the result to `run`.
    func resolveLinks(_ plan: DeploymentPlan) async throws -> ResolvedLinks {
        let (resolver, properties) = linkResolver(plan, shared: try await SharedLinks.all(on: context.database))
        do {
            return ResolvedLinks(properties: properties, links: try resolver.resolve())
        } catch {
            throw DeployError(error.description)
        }
    }

    /// What this deployment shares with others once the plan is deployed.
    func sharedLinks(_ plan: DeploymentPlan) -> [SharedLink] {
        linkResolver(plan).0.sharedLinks()
    }

    /// Renders the plan; `resolved` is what `resolveLinks` gave earlier, if it was called.
    func run(_ plan: DeploymentPlan, links resolved: ResolvedLinks? = nil) async throws -> [String: Rendered] {
        guard let blobs = context.blobs else {
            throw DeployError("The director has no blobstore to keep rendered templates in")
        }
        let scratch = NSTemporaryDirectory() + "bosun-render-\(context.taskID)-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let sources = JobTemplateSources(blobs: blobs, scratch: scratch)
        let groups = Dictionary(manifest.instanceGroups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        // Properties per job and the links between jobs (and deployments).
        let resolvedLinks: ResolvedLinks
        if let resolved { resolvedLinks = resolved } else { resolvedLinks = try await resolveLinks(plan) }
        let properties = resolvedLinks.properties, links = resolvedLinks.links

        // One render per instance and job.
        var templateSets: [String: [TemplateSource]] = [:]
        var renders: [TemplateRender] = []
        for instance in plan.allInstances {
            guard let group = groups[instance.group] else { continue }
            for job in group.jobs {
                guard let release = releases[job.release], let record = release.jobs[job.name] else { continue }
                let key = "\(job.release)/\(job.name)/\(record.version)"
                if templateSets[key] == nil { templateSets[key] = try await sources.sources(of: record) }
                renders.append(
                    TemplateRender(
                        id: "\(instance.id)|\(job.name)", templateSet: key,
                        context: templateContext(
                            instance, job: job.name, release: release,
                            properties: properties["\(group.name)/\(job.name)"] ?? [:],
                            links: links["\(group.name)/\(job.name)"] ?? [:])))
            }
        }
        let results: [RenderedTemplates]
        do {
            results = try await context.ledger.measure("render") { () async throws(TemplateRenderError) in
                try await environment.renderer.render(templateSets: templateSets, renders: renders, redact: secrets)
            }
        } catch {
            throw DeployError(error.description)
        }
        let instancesByID = Dictionary(plan.allInstances.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var failures: [String] = []
        var files: [String: [String: String]] = [:]
        for result in results {
            let parts = result.id.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if !result.errors.isEmpty {
                let instance = instancesByID[parts[0]]
                failures.append(
                    "- Unable to render templates for job '\(parts[1])' of instance '\(instance?.displayName ?? parts[0])'. Errors are:\n"
                        + result.errors.map { "    - " + $0 }.joined(separator: "\n"))
                continue
            }
            for (path, text) in result.files { files[parts[0], default: [:]]["\(parts[1])/\(path)"] = text }
            let consumed = links["\(instancesByID[parts[0]]?.group ?? "")/\(parts[1])"] ?? [:]
            files[parts[0], default: [:]]["\(parts[1])/.bosh/links.json"] = Self.linksFile(consumed)
        }
        if !failures.isEmpty {
            throw DeployError("Unable to render jobs. Errors are:\n" + failures.joined(separator: "\n"))
        }

        var rendered: [String: Rendered] = [:]
        for instance in plan.allInstances {
            guard let group = groups[instance.group], let stemcell = stemcells[group.stemcell] else { continue }
            let spec = try applySpec(instance, group: group, stemcell: stemcell)
            let instanceFiles = files[instance.id] ?? [:]
            let archive = try await RenderedArchive.build(files: instanceFiles, jobs: spec.job.templates.map(\.name))
            rendered[instance.id] = Rendered(
                spec: spec, configurationHash: Self.hash(instanceFiles, spec: spec), archive: archive)
        }
        return rendered
    }

    /// Keeps an instance's archive in the director's blobstore (blobstore delivery); returns
    /// the reference agents fetch it by.
    func storeArchive(of rendered: Rendered) async throws -> ApplySpec.RenderedTemplatesArchive {
        guard let blobs = context.blobs else { throw DeployError("The director has no blobstore") }
        let id = UUID().uuidString.lowercased()
        // Recorded first: an archive whose row is missing would never be deleted.
        try await RenderedArchives.record(id, deployment: deploymentName, on: context.database)
        try await blobs.store(rendered.archive.bytes, as: id)
        return ApplySpec.RenderedTemplatesArchive(blobstoreID: id, sha1: rendered.archive.sha1)
    }

    private func templateContext(
        _ instance: InstancePlan, job: String, release: ResolvedRelease, properties: JSONValue,
        links: [String: JSONValue]
    ) -> JSONValue {
        var networks: [String: JSONValue] = [:]
        for network in instance.networks {
            networks[network.name] = [
                "ip": .string(network.ip?.description ?? "127.0.0.1"),
                "netmask": .string(network.netmask?.description ?? "127.0.0.1"),
                "gateway": .string(network.gateway?.description ?? "127.0.0.1"),
                "default": .array(network.defaults.map(JSONValue.string)),
                "dns_record_name": .string(
                    DNSNames.instance(
                        String(instance.index), group: instance.group, network: network.name, deployment: deploymentName
                    )),
            ]
        }
        let address = address(of: instance) ?? ""
        return [
            "deployment": .string(deploymentName), "name": .string(instance.group), "index": .int(instance.index),
            "id": .string(instance.id), "az": instance.az.map(JSONValue.string) ?? .null,
            "bootstrap": .bool(instance.bootstrap),
            "job": ["name": .string(instance.group)], "networks": .object(networks), "address": .string(address),
            "ip": .string(instance.address?.description ?? ""), "dns_domain_name": .string(DNSNames.domain),
            "persistent_disk": .int(instance.persistentDisk?.sizeMB ?? 0),
            "properties": properties, "links": .object(links),
            "release": ["name": .string(release.name), "version": .string(release.version)],
        ]
    }

    private func applySpec(_ instance: InstancePlan, group: InstanceGroup, stemcell: StemcellRecord) throws -> ApplySpec
    {
        var templates: [BlobReference] = []
        var packages: [String: BlobReference] = [:]
        let compiledHere = compiled[stemcell.id!] ?? [:]
        for job in group.jobs {
            guard let release = releases[job.release], let record = release.jobs[job.name] else { continue }
            templates.append(
                BlobReference(
                    name: job.name, version: record.version, sha1: record.sha1, blobstoreID: record.blobstoreID))
            for package in release.packages(ofJob: job.name) {
                guard let id = package.id, let done = compiledHere[id] else {
                    if packagesMayBeUncompiled {
                        packages[package.name] = BlobReference(
                            name: package.name, version: package.version + ".1", sha1: "", blobstoreID: "")
                        continue
                    }
                    throw DeployError(
                        "Package '\(package.name)' of job '\(job.name)' is not compiled for stemcell \(stemcell.name)/\(stemcell.version)"
                    )
                }
                packages[package.name] = BlobReference(
                    name: package.name, version: package.version + ".1", sha1: done.sha1, blobstoreID: done.blobstoreID)
            }
        }
        var networks: [String: NetworkSettings] = [:]
        for network in instance.networks {
            networks[network.name] = NetworkSettings(
                type: network.kind.rawValue, ip: network.ip?.description, netmask: network.netmask?.description,
                gateway: network.gateway?.description, dns: network.dns, default: network.defaults,
                cloudProperties: network.cloudProperties)
        }
        return ApplySpec(
            deployment: deploymentName, job: .init(name: group.name, templates: templates), index: instance.index,
            name: group.name,
            id: instance.id, az: instance.az, networks: networks, packages: packages, dnsDomainName: "bosh",
            configurationHash: nil,
            persistentDisk: instance.persistentDisk?.sizeMB ?? 0, renderedTemplatesArchive: nil)
    }

    /// What a job consumed, without property values (they may be secret): link name, type, group.
    static func linksFile(_ links: [String: JSONValue]) -> String {
        let entries: [JSONValue] = links.keys.sorted().map { name in
            [
                "name": .string(name), "type": links[name]?["type"] ?? .null,
                "group": links[name]?["instance_group"] ?? .null,
            ]
        }
        return String(
            decoding: (try? JSONCoding.encoder.encode(JSONValue.array(entries))) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// SHA-1 over the rendered files, the jobs and the packages: equal hashes mean nothing to apply.
    static func hash(_ files: [String: String], spec: ApplySpec) -> String {
        var hasher = Insecure.SHA1()
        for path in files.keys.sorted() {
            hasher.update(data: Data(path.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: Data(files[path]!.utf8))
            hasher.update(data: Data([0]))
        }
        for job in spec.job.templates { hasher.update(data: Data("job:\(job.name)/\(job.sha1)\n".utf8)) }
        for name in spec.packages.keys.sorted() {
            hasher.update(data: Data("package:\(name)/\(spec.packages[name]!.sha1)\n".utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
