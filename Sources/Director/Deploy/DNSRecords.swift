import AgentProtocol
import BosunCore
import Crypto
import FluentKit
import Foundation

/// One published version of the DNS records every agent gets (`sync_dns`): the blob holding it
/// and a digest of its records, so an unchanged set is not published again.
final class DNSBlobRecord: Model, @unchecked Sendable {
    static let schema = "dns_blobs"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "version") var version: Int
    @Field(key: "blobstore_id") var blobstoreID: String
    @Field(key: "sha1") var sha1: String
    /// SHA-1 of the records without their version: what decides whether anything changed.
    @Field(key: "records_digest") var recordsDigest: String
    @Field(key: "created_at") var createdAt: Double

    init() {}
}

extension DirectorMigrations {
    struct CreateDNSBlobs: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(DNSBlobRecord.schema)
                .field("id", .int, .identifier(auto: true))
                .field("version", .int, .required).unique(on: "version")
                .field("blobstore_id", .string, .required)
                .field("sha1", .string, .required)
                .field("records_digest", .string, .required)
                .field("created_at", .double, .required)
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(DNSBlobRecord.schema).delete()
        }
    }
}

/// BOSH's DNS records (`records.json`, reference §2.5): for every address an instance of any
/// deployment holds, its `<uuid>…bosh` and `<index>…bosh` names and its group's `q-s0…bosh`
/// query name, with the `record_keys`/`record_infos` BOSH DNS reads. Published as a blob when
/// they change and sent to agents, which write them to `/var/vcap/instance/dns/records.json`
/// and `/etc/hosts` — so the names resolve on every VM without a DNS server.
enum DNSRecords {
    static let recordKeys: [JSONValue] = ["id", "instance_group", "az", "network", "deployment", "ip", "domain", "agent_id", "instance_index"]

    /// The records as they stand in the database, without a version.
    static func build(on database: any Database) async throws -> (records: [JSONValue], infos: [JSONValue]) {
        let deployments = Dictionary(
            try await DeploymentRecord.query(on: database).all().compactMap { record in record.id.map { ($0, record.name) } },
            uniquingKeysWith: { first, _ in first })
        let instances = Dictionary(
            try await InstanceRecord.query(on: database).all().compactMap { record in record.id.map { ($0, record) } },
            uniquingKeysWith: { first, _ in first })
        let agents = Dictionary(
            try await VMRecord.query(on: database).filter(\.$active == true).all().compactMap { vm in vm.instanceID.map { ($0, vm.agentID) } },
            uniquingKeysWith: { first, _ in first })
        var records: [JSONValue] = []
        var infos: [JSONValue] = []
        let addresses = try await IPAddressRecord.query(on: database).filter(\.$instanceID != nil).all()
            .sorted { ($0.deploymentID, $0.instanceID ?? 0, $0.network) < ($1.deploymentID, $1.instanceID ?? 0, $1.network) }
        for address in addresses {
            guard let instanceID = address.instanceID, let instance = instances[instanceID], let deployment = deployments[address.deploymentID]
            else { continue }
            let ip = JSONValue.string(address.address)
            for name in [
                DNSNames.instance(instance.uuid, group: instance.group, network: address.network, deployment: deployment),
                DNSNames.instance(String(instance.index), group: instance.group, network: address.network, deployment: deployment),
                DNSNames.groupQuery(group: instance.group, network: address.network, deployment: deployment),
            ] {
                records.append([ip, .string(name)])
            }
            infos.append([
                .string(instance.uuid), .string(DNSNames.label(instance.group)), instance.az.map(JSONValue.string) ?? .null,
                .string(DNSNames.label(address.network)), .string(DNSNames.label(deployment)), ip, .string(DNSNames.domain),
                agents[instanceID].map(JSONValue.string) ?? .null, .int(instance.index),
            ])
        }
        return (records, infos)
    }

    /// The newest published version.
    static func latest(on database: any Database) async throws -> DNSBlobRecord? {
        try await DNSBlobRecord.query(on: database).sort(\.$version, .descending).first()
    }

    /// Publishes the records as a new version when they changed since the last one; returns that
    /// new version, nil when nothing changed (or there is nothing to publish).
    static func publish(context: TaskContext) async throws -> DNSBlobRecord? {
        guard let blobs = context.blobs else { return nil }
        let (records, infos) = try await build(on: context.database)
        let digest = Insecure.SHA1.hash(data: Data(try JSONCoding.string(JSONValue.array(records + infos)).utf8))
            .map { String(format: "%02x", $0) }.joined()
        let latest = try await latest(on: context.database)
        if let latest, latest.recordsDigest == digest { return nil }
        if latest == nil, records.isEmpty { return nil }
        let version = (latest?.version ?? 0) + 1
        let document: JSONValue = [
            "version": .int(version), "records": .array(records), "record_keys": .array(recordKeys), "record_infos": .array(infos),
        ]
        let id = UUID().uuidString.lowercased()
        let sha1 = try await blobs.store(Data(try JSONCoding.string(document).utf8), as: id)
        let record = DNSBlobRecord()
        record.version = version
        record.blobstoreID = id
        record.sha1 = sha1
        record.recordsDigest = digest
        record.createdAt = Date().timeIntervalSince1970
        do {
            try await record.save(on: context.database)
        } catch {
            // Another task published this version first (and syncs it): its records are as new as these.
            blobs.remove(id)
            return nil
        }
        // Only the last few versions are worth keeping.
        for old in try await DNSBlobRecord.query(on: context.database).filter(\.$version <= version - 5).all() {
            blobs.remove(old.blobstoreID)
            try await old.delete(on: context.database)
        }
        context.events.debug("Published DNS records version \(version) (\(records.count) records)")
        return record
    }

    /// Publishes the records if they changed and, when they did, sends the new version to every
    /// VM's agent (ten at a time, 5 s each; an agent that misses it gets it with its next change
    /// or when it is next updated).
    static func publishAndSync(context: TaskContext, environment: DeployEnvironment) async throws {
        guard let latest = try await publish(context: context) else { return }
        let vms = try await VMRecord.query(on: context.database).filter(\.$active == true).all()
        let method = AgentMethod.syncDNS(blobstoreID: latest.blobstoreID, sha1: latest.sha1, version: latest.version)
        try await ParallelRun.forEach(vms, limit: 10) { _, vm in
            guard let agent = try? await environment.agents.client(
                agentID: vm.agentID, instanceName: vm.agentID, requestTimeout: .seconds(5), ledger: context.ledger)
            else { return }
            _ = try? await agent.send(method)
        }
    }

    /// Gives one (new) VM's agent the latest records, before its jobs start.
    static func sync(_ agent: AgentClient, on database: any Database) async throws {
        guard let latest = try await latest(on: database) else { return }
        _ = try await agent.send(.syncDNS(blobstoreID: latest.blobstoreID, sha1: latest.sha1, version: latest.version))
    }
}
