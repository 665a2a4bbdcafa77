import FluentKit
import Foundation

/// A task (`/tasks/<id>`): one long-running operation and its state. Its event, debug and result
/// outputs live as files in `<state>/tasks/<id>/`.
public final class TaskRecord: Model, @unchecked Sendable {
    public static let schema = "tasks"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// `queued`, `processing`, `cancelling`, `done`, `error`, `cancelled`, `timeout`.
    @Field(key: "state") public var state: String
    /// What runs: `update_deployment`, `update_release`, … (picks the job and the verbose level).
    @Field(key: "type") public var type: String
    @Field(key: "description") public var description: String
    @OptionalField(key: "deployment") public var deployment: String?
    @Field(key: "username") public var user: String
    @OptionalField(key: "result") public var result: String?
    @Field(key: "context_id") public var contextID: String
    /// The job's input (JSON), e.g. the manifest's blob id.
    @Field(key: "arguments") public var arguments: String
    @Field(key: "created_at") public var createdAt: Double
    @OptionalField(key: "started_at") public var startedAt: Double?
    /// Last change; the finish time once the task is over.
    @Field(key: "timestamp") public var timestamp: Double

    public init() {}

    public init(type: String, description: String, user: String, deployment: String?, arguments: String, contextID: String = "", now: Double) {
        self.state = "queued"
        self.type = type
        self.description = description
        self.user = user
        self.deployment = deployment
        self.arguments = arguments
        self.contextID = contextID
        self.createdAt = now
        self.timestamp = now
    }
}

/// A lock (`/locks`): a deployment (or other resource) held by a task until a deadline the
/// holder keeps pushing forward.
public final class LockRecord: Model, @unchecked Sendable {
    public static let schema = "locks"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// Unique, e.g. `lock:deployment:web`.
    @Field(key: "name") public var name: String
    @Field(key: "type") public var type: String
    /// JSON array of strings, as `/locks` shows it.
    @Field(key: "resource") public var resource: String
    @Field(key: "task_id") public var taskID: Int
    @Field(key: "expires_at") public var expiresAt: Double

    public init() {}

    public init(name: String, type: String, resource: [String], taskID: Int, expiresAt: Double) {
        self.name = name
        self.type = type
        self.resource = String(decoding: (try? JSONEncoder().encode(resource)) ?? Data("[]".utf8), as: UTF8.self)
        self.taskID = taskID
        self.expiresAt = expiresAt
    }
}

/// An event (`/events`): who did what to which object, by which task.
public final class EventRecord: Model, @unchecked Sendable {
    public static let schema = "events"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @OptionalField(key: "parent_id") public var parentID: Int?
    @Field(key: "timestamp") public var timestamp: Double
    @Field(key: "username") public var user: String
    @Field(key: "action") public var action: String
    @Field(key: "object_type") public var objectType: String
    @OptionalField(key: "object_name") public var objectName: String?
    @OptionalField(key: "task") public var task: String?
    @OptionalField(key: "deployment") public var deployment: String?
    @OptionalField(key: "instance") public var instance: String?
    /// JSON object.
    @Field(key: "context") public var context: String
    @OptionalField(key: "error") public var error: String?

    public init() {}
}

/// A config (`/configs`): one version of a cloud, runtime, cpi or other config by type and name.
public final class ConfigRecord: Model, @unchecked Sendable {
    public static let schema = "configs"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "type") public var type: String
    @Field(key: "name") public var name: String
    @Field(key: "content") public var content: String
    @Field(key: "created_at") public var createdAt: Double
    @OptionalField(key: "team") public var team: String?
    /// Deleted configs stay for history (`/configs` lists only live ones).
    @Field(key: "deleted") public var deleted: Bool

    public init() {}

    public init(type: String, name: String, content: String, createdAt: Double) {
        self.type = type
        self.name = name
        self.content = content
        self.createdAt = createdAt
        self.deleted = false
    }
}

/// An uploaded stemcell (`/stemcells`): what `stemcell.MF` says and the CPI's id for it.
public final class StemcellRecord: Model, @unchecked Sendable {
    public static let schema = "stemcells"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "name") public var name: String
    @Field(key: "version") public var version: String
    @Field(key: "operating_system") public var operatingSystem: String
    @Field(key: "api_version") public var apiVersion: Int
    @Field(key: "cid") public var cid: String
    @Field(key: "cpi") public var cpi: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// A release by name (`/releases`); its versions, jobs and packages hang off it.
public final class ReleaseRecord: Model, @unchecked Sendable {
    public static let schema = "releases"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "name") public var name: String

    public init() {}
    public init(name: String) { self.name = name }
}

/// One uploaded version of a release: which jobs and packages (ids, JSON arrays) it is made of.
public final class ReleaseVersionRecord: Model, @unchecked Sendable {
    public static let schema = "release_versions"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "release_id") public var releaseID: Int
    @Field(key: "version") public var version: String
    @Field(key: "commit_hash") public var commitHash: String
    @Field(key: "uncommitted_changes") public var uncommittedChanges: Bool
    @Field(key: "package_ids") public var packageIDs: String
    @Field(key: "template_ids") public var templateIDs: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// What jobs and packages of a release have in common: a named, versioned, fingerprinted blob.
public protocol ReleaseArtifactRecord: AnyObject {
    var releaseID: Int { get set }
    var name: String { get set }
    var version: String { get set }
    var fingerprint: String { get set }
    var sha1: String { get set }
    var blobstoreID: String { get set }
}

extension PackageRecord: ReleaseArtifactRecord {}
extension TemplateRecord: ReleaseArtifactRecord {}

/// A source package of a release, stored in the blobstore; shared by every version with the same
/// fingerprint.
public final class PackageRecord: Model, @unchecked Sendable {
    public static let schema = "packages"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "release_id") public var releaseID: Int
    @Field(key: "name") public var name: String
    @Field(key: "version") public var version: String
    @Field(key: "fingerprint") public var fingerprint: String
    @Field(key: "sha1") public var sha1: String
    @Field(key: "blobstore_id") public var blobstoreID: String
    /// JSON array of package names.
    @Field(key: "dependencies") public var dependencies: String

    public init() {}
}

/// A job of a release (BOSH's "template"), stored in the blobstore, with its `job.MF` as JSON.
public final class TemplateRecord: Model, @unchecked Sendable {
    public static let schema = "templates"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "release_id") public var releaseID: Int
    @Field(key: "name") public var name: String
    @Field(key: "version") public var version: String
    @Field(key: "fingerprint") public var fingerprint: String
    @Field(key: "sha1") public var sha1: String
    @Field(key: "blobstore_id") public var blobstoreID: String
    /// `job.MF` (templates, packages, properties, consumes, provides) as JSON.
    @Field(key: "spec") public var spec: String

    public init() {}
}
