import BosunCore

/// Every director→agent method, with its positional arguments (reference §3.5).
public enum AgentMethod: Sendable, Equatable {
    case ping
    case info
    /// `get_state`, or `get_state("full")` with vitals.
    case getState(full: Bool)
    case apply(ApplySpec)
    case prepare(ApplySpec)
    case drain(DrainType, ApplySpec?)
    case stop
    case start
    case runScript(name: String, env: [String: String])
    case mountDisk(diskCID: String)
    case unmountDisk(diskCID: String)
    case listDisk
    case addPersistentDisk(diskCID: String, hint: JSONValue)
    case removePersistentDisk(diskCID: String)
    case migrateDisk(oldCID: String, newCID: String)
    case updateSettings(UpdateSettings)
    case uploadBlob(UploadBlob)
    case compilePackage(CompilePackage)
    /// `compile_package` for an agent without blobstore credentials: the source, each dependency
    /// and the result travel through pre-signed URLs.
    case compilePackageWithSignedURL(CompilePackage, sourceURL: String, uploadURL: String)
    case fetchLogs(logTypes: [String], filters: [String]?)
    case fetchLogsWithSignedURL(uploadURL: String, logTypes: [String], filters: [String]?)
    case runErrand(name: String?)
    case deleteARPEntries(ips: [String])
    case syncDNS(blobstoreID: String, sha1: String, version: Int)
    case syncDNSWithSignedURL(url: String, digest: String, version: Int)
    case cancelTask(agentTaskID: String)
    case getTask(agentTaskID: String)
    case shutdown

    public enum DrainType: String, Sendable, Codable {
        case update, shutdown, status
    }

    public var name: String {
        switch self {
        case .ping: return "ping"
        case .info: return "info"
        case .getState: return "get_state"
        case .apply: return "apply"
        case .prepare: return "prepare"
        case .drain: return "drain"
        case .stop: return "stop"
        case .start: return "start"
        case .runScript: return "run_script"
        case .mountDisk: return "mount_disk"
        case .unmountDisk: return "unmount_disk"
        case .listDisk: return "list_disk"
        case .addPersistentDisk: return "add_persistent_disk"
        case .removePersistentDisk: return "remove_persistent_disk"
        case .migrateDisk: return "migrate_disk"
        case .updateSettings: return "update_settings"
        case .uploadBlob: return "upload_blob"
        case .compilePackage: return "compile_package"
        case .compilePackageWithSignedURL: return "compile_package_with_signed_url"
        case .fetchLogs: return "fetch_logs"
        case .fetchLogsWithSignedURL: return "fetch_logs_with_signed_url"
        case .runErrand: return "run_errand"
        case .deleteARPEntries: return "delete_arp_entries"
        case .syncDNS: return "sync_dns"
        case .syncDNSWithSignedURL: return "sync_dns_with_signed_url"
        case .cancelTask: return "cancel_task"
        case .getTask: return "get_task"
        case .shutdown: return "shutdown"
        }
    }

    /// Methods whose first reply is an `agent_task_id` to poll with `get_task`.
    public var isAsynchronous: Bool {
        switch self {
        case .apply, .prepare, .drain, .stop, .runScript, .mountDisk, .unmountDisk, .listDisk, .addPersistentDisk,
            .removePersistentDisk, .migrateDisk, .updateSettings, .uploadBlob, .compilePackage, .fetchLogs, .runErrand,
            .compilePackageWithSignedURL, .fetchLogsWithSignedURL:
            return true
        default:
            return false
        }
    }

    /// Methods the director sends without waiting for a reply.
    public var isFireAndForget: Bool {
        switch self {
        case .shutdown, .deleteARPEntries: return true
        default: return false
        }
    }

    /// How often BOSH retries a request that timed out (reference §3.4); all others never.
    public var timeoutRetries: Int {
        switch self {
        case .getState: return 2
        case .getTask: return 4
        case .uploadBlob: return 3
        default: return 0
        }
    }

    /// A dependency of `compile_package_with_signed_url` as the Go bosh-agent reads it
    /// (`agent/compiler`): its URL under `package_get_signed_url`, not the apply spec's `signed_url`.
    static func signedDependency(_ blob: BlobReference) -> JSONValue {
        var entry: [String: JSONValue] = [
            "name": .string(blob.name), "version": .string(blob.version), "sha1": .string(blob.sha1),
            "blobstore_id": .string(blob.blobstoreID),
        ]
        if let url = blob.signedURL { entry["package_get_signed_url"] = .string(url) }
        return .object(entry)
    }

    /// The positional `arguments` array.
    public var arguments: [JSONValue] {
        func encoded(_ value: some Encodable) -> JSONValue {
            // Our own Codable types always encode.
            (try? JSONValue(encoding: value)) ?? .null
        }
        switch self {
        case .ping, .info, .stop, .start, .listDisk, .shutdown:
            return []
        case .getState(let full):
            return full ? ["full"] : []
        case .apply(let spec), .prepare(let spec):
            return [encoded(spec)]
        case .drain(let type, let spec):
            return [.string(type.rawValue)] + (spec.map { [encoded($0)] } ?? [])
        case .runScript(let name, let env):
            return [.string(name), ["env": .object(env.mapValues(JSONValue.string))]]
        case .mountDisk(let cid), .unmountDisk(let cid), .removePersistentDisk(let cid):
            return [.string(cid)]
        case .addPersistentDisk(let cid, let hint):
            return [.string(cid), hint]
        case .migrateDisk(let old, let new):
            return [.string(old), .string(new)]
        case .updateSettings(let settings):
            return [encoded(settings)]
        case .uploadBlob(let blob):
            return [encoded(blob)]
        case .compilePackage(let package):
            return [
                .string(package.blobstoreID), .string(package.sha1), .string(package.name), .string(package.version),
                encoded(package.dependencies),
            ]
        case .compilePackageWithSignedURL(let package, let sourceURL, let uploadURL):
            return [
                [
                    "package_get_signed_url": .string(sourceURL), "upload_signed_url": .string(uploadURL),
                    "digest": .string(package.sha1), "name": .string(package.name), "version": .string(package.version),
                    "deps": .object(package.dependencies.mapValues(Self.signedDependency)),
                ]
            ]
        case .fetchLogs(let types, let filters):
            return [.string(types.joined(separator: ",")), filters.map { .array($0.map(JSONValue.string)) } ?? .null]
        case .fetchLogsWithSignedURL(let url, let types, let filters):
            return [
                [
                    "signed_url": .string(url), "log_type": .string(types.joined(separator: ",")),
                    "filters": filters.map { .array($0.map(JSONValue.string)) } ?? .null,
                ]
            ]
        case .runErrand(let name):
            return name.map { [.string($0)] } ?? []
        case .deleteARPEntries(let ips):
            return [["ips": .array(ips.map(JSONValue.string))]]
        case .syncDNS(let blobstoreID, let sha1, let version):
            return [.string(blobstoreID), .string(sha1), .int(version)]
        case .syncDNSWithSignedURL(let url, let digest, let version):
            return [["signed_url": .string(url), "multi_digest": .string(digest), "version": .int(version)]]
        case .cancelTask(let id), .getTask(let id):
            return [.string(id)]
        }
    }
}

/// `update_settings` argument.
public struct UpdateSettings: Codable, Sendable, Equatable {
    public var trustedCerts: String
    public var diskAssociations: [DiskAssociation]
    public var mbus: MessageBus?
    /// `[{provider, options}]`: where the agent's blobstore moved to (director certificate rotation).
    public var blobstores: [JSONValue]?

    public struct DiskAssociation: Codable, Sendable, Equatable {
        public var name: String
        public var cid: String

        public init(name: String, cid: String) {
            self.name = name
            self.cid = cid
        }
    }

    public struct MessageBus: Codable, Sendable, Equatable {
        public var cert: CertificateBundle

        public init(cert: CertificateBundle) { self.cert = cert }
    }

    public init(
        trustedCerts: String = "", diskAssociations: [DiskAssociation] = [], mbus: MessageBus? = nil,
        blobstores: [JSONValue]? = nil
    ) {
        self.trustedCerts = trustedCerts
        self.diskAssociations = diskAssociations
        self.mbus = mbus
        self.blobstores = blobstores
    }

    enum CodingKeys: String, CodingKey {
        case trustedCerts = "trusted_certs"
        case diskAssociations = "disk_associations"
        case mbus, blobstores
    }
}

/// `{ca, certificate, private_key}` PEM texts.
public struct CertificateBundle: Codable, Sendable, Equatable {
    public var ca: String
    public var certificate: String
    public var privateKey: String

    public init(ca: String, certificate: String, privateKey: String) {
        self.ca = ca
        self.certificate = certificate
        self.privateKey = privateKey
    }

    enum CodingKeys: String, CodingKey {
        case ca, certificate
        case privateKey = "private_key"
    }
}

/// `upload_blob` argument: rendered templates delivered over NATS instead of the blobstore.
public struct UploadBlob: Codable, Sendable, Equatable {
    public var blobID: String
    /// SHA-1 hex of the decoded payload.
    public var checksum: String
    /// Base64 of the blob.
    public var payload: String

    public init(blobID: String, checksum: String, payload: String) {
        self.blobID = blobID
        self.checksum = checksum
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case blobID = "blob_id"
        case checksum, payload
    }
}

/// `compile_package` arguments.
public struct CompilePackage: Sendable, Equatable {
    public var blobstoreID: String
    public var sha1: String
    public var name: String
    /// `<package version>.<build>`.
    public var version: String
    public var dependencies: [String: BlobReference]

    public init(blobstoreID: String, sha1: String, name: String, version: String, dependencies: [String: BlobReference])
    {
        self.blobstoreID = blobstoreID
        self.sha1 = sha1
        self.name = name
        self.version = version
        self.dependencies = dependencies
    }
}
