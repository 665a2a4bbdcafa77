import Blobstore
import BosunCore
import Foundation
import Logging

/// What deploys need beyond the task context: the agents' bus and credentials, where agents find
/// the blobstore, the config server and the template renderer.
public struct DeployEnvironment: Sendable {
    public var directorName: String
    public var directorUUID: String
    public var agents: AgentHub
    /// Lets a new VM's agent onto the bus (nil when the bus is not the director's own).
    public var natsServer: ManagedNATSServer?
    let natsCertificates: NATSCertificates
    /// The NATS URL agents connect to (the director's address as VMs see it).
    public var agentMbusURL: @Sendable () async throws -> String
    /// `env.bosh.blobstores[0]` for agents: the director's blobstore with the agent credentials.
    public var agentBlobstore: JSONValue
    public var configServer: ConfigServer
    public var renderer: ERBRenderer
    /// How long a new VM's agent has to answer its first ping.
    public var agentStartTimeout: Duration = .seconds(300)
    /// Rendered templates go over NATS (`upload_blob`), never into the blobstore.
    public var natsDeliveredTemplates = false
    /// Set with `blobstore.enable_signed_urls`: every blob an agent fetches or stores comes with a
    /// pre-signed URL, since agents hold no blobstore credentials.
    public var signedBlobURLs: SignedBlobURLs?
    /// The largest NATS message the bus takes, and the setting that raises it.
    public var natsMaxPayloadBytes = 1 << 20
    /// The director-wide base of every VM's `env.bosh` (`agent.env.bosh`).
    public var agentEnvBosh: JSONValue = [:]
    /// What the health monitor knows of each agent.
    public var health = HealthBoard()

    /// A group's `env.bosh` as its VMs get it: the director's `agent.env.bosh` under the group's
    /// (the group wins key by key, a whole `job_dir` map replacing the director's).
    func effectiveBosh(groupEnv: JSONValue) -> JSONValue {
        var bosh: [String: JSONValue] = [:]
        if case .object(let base) = agentEnvBosh { bosh = base }
        if case .object(let own)? = groupEnv["bosh"] { bosh.merge(own) { _, group in group } }
        return .object(bosh)
    }

    /// A VM's `create_vm` env: the group's env with its effective `env.bosh`, then what connects
    /// the agent.
    /// - Parameter groups: BOSH's `env.bosh.group`/`groups` naming (director, deployment,
    ///   instance group): what the CPI tags the VM with, and what `list_vms` reports.
    func vmEnvironment(groupEnv: JSONValue, agentID: String, groups: [String] = []) async throws -> JSONValue {
        var env = groupEnv.orEmptyObject
        if case .object(var top) = env, case .object(let base) = agentEnvBosh, !base.isEmpty {
            top["bosh"] = effectiveBosh(groupEnv: groupEnv)
            env = .object(top)
        }
        if !groups.isEmpty {
            env = env.deepMerging([
                "bosh": ["group": .string(groups.last ?? ""), "groups": .array(groups.map(JSONValue.string))]
            ])
        }
        return env.deepMerging(try await agentEnvironment(agentID: agentID))
    }

    /// `[director, deployment, group, director-deployment, deployment-group, director-deployment-group]`.
    func groups(deployment: String, instanceGroup: String) -> [String] {
        [
            directorName, deployment, instanceGroup, "\(directorName)-\(deployment)", "\(deployment)-\(instanceGroup)",
            "\(directorName)-\(deployment)-\(instanceGroup)",
        ]
    }

    /// The part of a VM's `env` that connects its agent: NATS URL and its own certificate, blobstore.
    func agentEnvironment(agentID: String) async throws -> JSONValue {
        let credentials = try natsCertificates.agentCredentials(agentID: agentID)
        return [
            "bosh": [
                "mbus": [
                    "urls": [.string(try await agentMbusURL())],
                    "cert": [
                        "ca": .string(natsCertificates.caPEM), "certificate": .string(credentials.certificate),
                        "private_key": .string(credentials.key),
                    ],
                ],
                "blobstores": [agentBlobstore],
            ]
        ]
    }
}

extension DeployEnvironment {
    /// Deploys on embedded defaults: the director's own nats-server and blobstore, both reached
    /// by agents at `agent_address`, the config server key in the state directory.
    static func forDirector(
        _ configuration: DirectorConfiguration, identity: DirectorIdentity, natsServer: ManagedNATSServer,
        natsCertificates: NATSCertificates, logger: Logger
    ) throws -> DeployEnvironment {
        let certs = configuration.certificatesDirectory
        let signed = identity.signedBlobURLs(configuration)
        let hub = AgentHub(
            directorUUID: identity.uuid,
            tls: .init(
                caFile: natsCertificates.caPath, certificateFile: certs + "/nats-director.crt",
                privateKeyFile: certs + "/nats-director.key"),
            logger: logger, blobURLs: signed
        ) { try await natsServer.url() }
        let blobstore = BlobstoreSettings(
            provider: "dav",
            options: .init(
                endpoint: configuration.blobstoreEndpointForAgents, user: signed == nil ? "agent" : nil,
                password: signed == nil ? identity.blobstoreAgentPassword : nil, caPEM: identity.caPEM))
        let advertised = configuration.natsAddressForAgents
        var environment = DeployEnvironment(
            directorName: configuration.name, directorUUID: identity.uuid, agents: hub, natsServer: natsServer,
            natsCertificates: natsCertificates,
            // `nats://`, as BOSH writes it: the Go agent knows no `tls://` scheme; TLS comes from
            // the server requiring it and the certificate in the VM's env.
            agentMbusURL: { "nats://\(advertised):\(try await natsServer.listeningPort())" },
            agentBlobstore: try JSONValue(encoding: blobstore),
            configServer: try ConfigServer(
                keyPath: configuration.stateDirectory + "/config-server.key", directorName: configuration.name),
            renderer: ERBRenderer())
        environment.natsDeliveredTemplates = configuration.natsDeliveredTemplates
        environment.signedBlobURLs = signed
        environment.natsMaxPayloadBytes = configuration.natsMaxPayloadBytes
        environment.agentEnvBosh = configuration.agentEnvBosh
        return environment
    }
}
