import FluentKit

/// A deployment: its name and the manifest it was last deployed with.
public final class DeploymentRecord: Model, @unchecked Sendable {
    public static let schema = "deployments"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "name") public var name: String
    /// The manifest text of the last successful deploy ("" before the first one finishes).
    @Field(key: "manifest") public var manifest: String
    /// The newest of the cloud configs deployed with (kept for directors before several names).
    @OptionalField(key: "cloud_config_id") public var cloudConfigID: Int?
    /// JSON array of the cloud config ids deployed with (every name); nil before the first deploy
    /// of a director that reads several.
    @OptionalField(key: "cloud_config_ids") public var cloudConfigIDs: String?
    /// JSON array of runtime config ids.
    @Field(key: "runtime_config_ids") public var runtimeConfigIDs: String
    /// JSON `[{name, version}]` of the releases and stemcells last deployed, for `bosh deployments`.
    @Field(key: "releases") public var releases: String
    @Field(key: "stemcells") public var stemcells: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// One instance of an instance group: identity, placement and what it should be doing.
public final class InstanceRecord: Model, @unchecked Sendable {
    public static let schema = "instances"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "deployment_id") public var deploymentID: Int
    @Field(key: "group_name") public var group: String
    @Field(key: "instance_index") public var index: Int
    @Field(key: "uuid") public var uuid: String
    @OptionalField(key: "az") public var az: String?
    @Field(key: "bootstrap") public var bootstrap: Bool
    /// `started`, `stopped` or `detached` (no VM).
    @Field(key: "state") public var state: String
    /// The hash of the rendered jobs and packages the agent last applied; nil before the first apply.
    @OptionalField(key: "configuration_hash") public var configurationHash: String?
    /// The apply spec last sent (JSON; it carries no properties, so no secrets).
    @OptionalField(key: "spec") public var spec: String?
    /// With templates delivered over NATS: the archive last applied, sealed with the config
    /// server's key, so the director can deliver it again after a tmpfs VM reboots.
    @OptionalField(key: "sealed_templates") public var sealedTemplates: String?
    /// The variable set the applied templates were rendered with.
    @OptionalField(key: "variable_set_id") public var variableSetID: Int?
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// A VM of an instance. A row is written before the CPI is asked to create the VM (`cid` nil), so
/// a director that dies in between knows a VM may exist for that agent id.
public final class VMRecord: Model, @unchecked Sendable {
    public static let schema = "vms"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// Nil for compilation VMs.
    @OptionalField(key: "instance_id") public var instanceID: Int?
    @Field(key: "deployment_id") public var deploymentID: Int
    @OptionalField(key: "cid") public var cid: String?
    @Field(key: "agent_id") public var agentID: String
    @Field(key: "active") public var active: Bool
    /// `moving` while a create-swap-delete moves the instance's address to this (not yet active)
    /// VM: a director that dies then finishes the swap when it deploys again.
    @OptionalField(key: "swap_state") public var swapState: String?
    /// JSON `VMDescription`: stemcell, cloud properties and env it was created with.
    @Field(key: "description") public var description: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// An address held director-wide: by an instance, or by a VM (compilation, orphaned). The unique
/// address is the last guard against two deploys handing out the same IP.
public final class IPAddressRecord: Model, @unchecked Sendable {
    public static let schema = "ip_addresses"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "address") public var address: String
    @Field(key: "network") public var network: String
    @Field(key: "deployment_id") public var deploymentID: Int
    @OptionalField(key: "instance_id") public var instanceID: Int?
    @OptionalField(key: "vm_id") public var vmID: Int?
    @OptionalField(key: "orphaned_vm_id") public var orphanedVMID: Int?
    @Field(key: "static") public var isStatic: Bool
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// A persistent disk of an instance.
public final class PersistentDiskRecord: Model, @unchecked Sendable {
    public static let schema = "persistent_disks"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "instance_id") public var instanceID: Int
    @OptionalField(key: "cid") public var cid: String?
    @Field(key: "size") public var sizeMB: Int
    @Field(key: "cloud_properties") public var cloudProperties: String
    @Field(key: "active") public var active: Bool

    public init() {}
}

/// A package compiled for one stemcell, reused by every deploy on that stemcell.
public final class CompiledPackageRecord: Model, @unchecked Sendable {
    public static let schema = "compiled_packages"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "package_id") public var packageID: Int
    @Field(key: "stemcell_os") public var stemcellOS: String
    @Field(key: "stemcell_version") public var stemcellVersion: String
    /// The compiled versions of its dependencies, so a changed dependency means a new compile.
    @Field(key: "dependency_key") public var dependencyKey: String
    @Field(key: "blobstore_id") public var blobstoreID: String
    @Field(key: "sha1") public var sha1: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}

/// A config-server value (a generated or stored variable), encrypted at rest.
public final class VariableRecord: Model, @unchecked Sendable {
    public static let schema = "variables"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// Full name: `/<director>/<deployment>/<variable>`.
    @Field(key: "name") public var name: String
    /// AES-GCM sealed JSON value, base64.
    @Field(key: "sealed_value") public var sealedValue: String
    /// A random id per generated or set value: what `bosun variables` lists.
    @OptionalField(key: "value_id") public var valueID: String?
    /// SHA-256 of the type and options the value was generated with (`update_mode: converge`).
    @OptionalField(key: "options_digest") public var optionsDigest: String?
    /// The deployment's stemcells when the value was generated (`on-stemcell-change`), JSON.
    @OptionalField(key: "stemcells") public var stemcells: String?
    @Field(key: "created_at") public var createdAt: Double

    public init() {}
}
