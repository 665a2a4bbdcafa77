import BosunCore
import Foundation
import Testing

@testable import AgentProtocol

/// Every message as JSON, compared with the shapes BOSH's director and agent exchange.
@Suite struct AgentProtocolGoldenTests {
    func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    func request(_ method: AgentMethod) throws -> String {
        try json(AgentRequest(method: method, replyTo: "director.d1.a1.r1"))
    }

    static let spec = ApplySpec(
        deployment: "greeter",
        job: .init(name: "web", templates: [.init(name: "greeter", version: "v1", sha1: "s1", blobstoreID: "b1")]),
        index: 0, name: "web", id: "uuid-1", az: "z1",
        networks: [
            "default": NetworkSettings(
                type: "manual", ip: "10.244.0.10", netmask: "255.255.255.0", gateway: "10.244.0.1", dns: ["10.244.0.1"],
                default: ["dns", "gateway"])
        ],
        packages: ["greeter": .init(name: "greeter", version: "p1", sha1: "ps", blobstoreID: "pb")],
        configurationHash: "ch", persistentDisk: 1024, renderedTemplatesArchive: .init(blobstoreID: "rb", sha1: "rs"))

    @Test(arguments: [
        (AgentMethod.ping, #"{"arguments":[],"method":"ping","protocol":3,"reply_to":"director.d1.a1.r1"}"#),
        (
            .getState(full: true),
            #"{"arguments":["full"],"method":"get_state","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .drain(.shutdown, nil),
            #"{"arguments":["shutdown"],"method":"drain","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .runScript(name: "pre-start", env: [:]),
            #"{"arguments":["pre-start",{"env":{}}],"method":"run_script","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .mountDisk(diskCID: "disk-1"),
            #"{"arguments":["disk-1"],"method":"mount_disk","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .addPersistentDisk(diskCID: "disk-1", hint: "/dev/sdc"),
            #"{"arguments":["disk-1","/dev/sdc"],"method":"add_persistent_disk","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .migrateDisk(oldCID: "a", newCID: "b"),
            #"{"arguments":["a","b"],"method":"migrate_disk","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .fetchLogs(logTypes: ["job", "agent"], filters: nil),
            #"{"arguments":["job,agent",null],"method":"fetch_logs","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .deleteARPEntries(ips: ["10.0.0.1"]),
            #"{"arguments":[{"ips":["10.0.0.1"]}],"method":"delete_arp_entries","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .syncDNS(blobstoreID: "b", sha1: "s", version: 7),
            #"{"arguments":["b","s",7],"method":"sync_dns","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .getTask(agentTaskID: "t1"),
            #"{"arguments":["t1"],"method":"get_task","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (
            .cancelTask(agentTaskID: "t1"),
            #"{"arguments":["t1"],"method":"cancel_task","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        ),
        (.runErrand(name: nil), #"{"arguments":[],"method":"run_errand","protocol":3,"reply_to":"director.d1.a1.r1"}"#),
    ])
    func requestEnvelopes(method: AgentMethod, expected: String) throws {
        #expect(try request(method) == expected)
    }

    @Test func applySpec() throws {
        let expected = #"""
            {"arguments":[{"az":"z1","configuration_hash":"ch","deployment":"greeter","id":"uuid-1","index":0,"job":{"name":"web","templates":[{"blobstore_id":"b1","name":"greeter","sha1":"s1","version":"v1"}]},"name":"web","networks":{"default":{"cloud_properties":{},"default":["dns","gateway"],"dns":["10.244.0.1"],"gateway":"10.244.0.1","ip":"10.244.0.10","netmask":"255.255.255.0","type":"manual"}},"packages":{"greeter":{"blobstore_id":"pb","name":"greeter","sha1":"ps","version":"p1"}},"persistent_disk":1024,"rendered_templates_archive":{"blobstore_id":"rb","sha1":"rs"}}],"method":"apply","protocol":3,"reply_to":"director.d1.a1.r1"}
            """#
        #expect(try request(.apply(Self.spec)) == expected)
        // And back: the agent reads the same spec from the first argument.
        let decoded = try JSONCoding.decoder.decode(AgentRequest.self, from: Data(expected.utf8))
        #expect(try decoded.arguments[0].decode(as: ApplySpec.self) == Self.spec)
    }

    @Test func compilePackageArguments() throws {
        let method = AgentMethod.compilePackage(
            .init(
                blobstoreID: "src", sha1: "sha", name: "greeter", version: "1.0.1",
                dependencies: [
                    "libgreet": .init(name: "libgreet", version: "2.0.1", sha1: "ls", blobstoreID: "lb")
                ]))
        #expect(
            try request(method)
                == #"{"arguments":["src","sha","greeter","1.0.1",{"libgreet":{"blobstore_id":"lb","name":"libgreet","sha1":"ls","version":"2.0.1"}}],"method":"compile_package","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        )
    }

    /// The Go bosh-agent (`agent/compiler/compiler_interface.go`) reads a signed dependency's URL
    /// from `package_get_signed_url`; with `signed_url` it fell back to the blobstore and got a 401.
    @Test func signedCompileDependenciesUseTheGoAgentsKey() throws {
        let method = AgentMethod.compilePackageWithSignedURL(
            .init(
                blobstoreID: "src", sha1: "sha", name: "greeter", version: "1.0.1",
                dependencies: [
                    "libgreet": .init(
                        name: "libgreet", version: "2.0.1", sha1: "ls", blobstoreID: "lb",
                        signedURL: "https://b/lb?st=x")
                ]), sourceURL: "https://b/src?st=y", uploadURL: "https://b/out?st=z")
        #expect(
            try request(method)
                == #"{"arguments":[{"deps":{"libgreet":{"blobstore_id":"lb","name":"libgreet","package_get_signed_url":"https://b/lb?st=x","sha1":"ls","version":"2.0.1"}},"digest":"sha","name":"greeter","package_get_signed_url":"https://b/src?st=y","upload_signed_url":"https://b/out?st=z","version":"1.0.1"}],"method":"compile_package_with_signed_url","protocol":3,"reply_to":"director.d1.a1.r1"}"#
        )
        let back = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try request(method).utf8))["arguments"]?
            .arrayValue?.first?["deps"]?["libgreet"]
        #expect(try back?.decode(as: BlobReference.self).signedURL == "https://b/lb?st=x", "Bosun's agent reads it too")
    }

    /// An errand group's spec names its job as BOSH's does (`job.template`, `job.version`) and
    /// `run_errand` names it: the Go agent refuses an errand without either.
    @Test func errandGroupSpecAndRunErrandNameTheJob() throws {
        var spec = Self.spec
        spec.job.template = "greeter"
        spec.job.version = "v1"
        let job = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try json(spec).utf8))["job"]
        #expect(job?["template"] == "greeter" && job?["version"] == "v1")
        #expect(
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(try json(Self.spec).utf8))["job"]?["template"]
                == nil)
        #expect(try request(.runErrand(name: "smoke")).contains(#""arguments":["smoke"],"method":"run_errand""#))
    }

    @Test func updateSettingsAndUploadBlob() throws {
        let settings = UpdateSettings(
            trustedCerts: "CERT", diskAssociations: [.init(name: "data", cid: "disk-1")],
            mbus: .init(cert: .init(ca: "CA", certificate: "C", privateKey: "K")))
        #expect(
            try json(settings)
                == #"{"disk_associations":[{"cid":"disk-1","name":"data"}],"mbus":{"cert":{"ca":"CA","certificate":"C","private_key":"K"}},"trusted_certs":"CERT"}"#
        )
        #expect(
            try json(UploadBlob(blobID: "id", checksum: "c", payload: "cGF5bG9hZA=="))
                == #"{"blob_id":"id","checksum":"c","payload":"cGF5bG9hZA=="}"#)
    }

    @Test func responses() throws {
        let decoder = JSONCoding.decoder
        let running = try decoder.decode(
            AgentResponse.self, from: Data(#"{"value":{"agent_task_id":"t-9","state":"running"}}"#.utf8))
        #expect(running.runningTask == AgentTaskHandle(agentTaskID: "t-9"))
        let done = try decoder.decode(AgentResponse.self, from: Data(#"{"value":"applied"}"#.utf8))
        #expect(done == .value("applied"))
        #expect(done.runningTask == nil)
        let failed = try decoder.decode(
            AgentResponse.self, from: Data(#"{"exception":{"message":"Task t-9 result: boom"}}"#.utf8))
        #expect(failed == .exception("Task t-9 result: boom"))
        #expect(
            try json(AgentResponse.unknownMethod("frobnicate"))
                == #"{"exception":{"message":"unknown message frobnicate"}}"#)
        #expect(try json(AgentResponse.value("pong")) == #"{"value":"pong"}"#)
    }

    @Test func heartbeatAndAlert() throws {
        let heartbeat = Heartbeat(
            deployment: "greeter", job: "web", index: 0, jobState: "running",
            vitals: .init(
                cpu: .init(sys: "0.5", user: "1.2", wait: "0.0"),
                disk: ["system": .init(percent: "40", inodePercent: "10")],
                load: ["0.1", "0.2", "0.3"], mem: .init(kb: "1024", percent: "12"), swap: .init(kb: "0", percent: "0"),
                uptime: .init(secs: 300)),
            nodeID: "uuid-1", numberOfProcesses: 2)
        #expect(
            try json(heartbeat)
                == #"{"deployment":"greeter","index":0,"job":"web","job_state":"running","node_id":"uuid-1","number_of_processes":2,"vitals":{"cpu":{"sys":"0.5","user":"1.2","wait":"0.0"},"disk":{"system":{"inode_percent":"10","percent":"40"}},"load":["0.1","0.2","0.3"],"mem":{"kb":"1024","percent":"12"},"swap":{"kb":"0","percent":"0"},"uptime":{"secs":300}}}"#
        )
        let alert = AgentAlert(
            id: "a1", severity: .critical, title: "greeter (10.244.0.10) - pid failed - restart",
            summary: "process died", createdAt: 1_700_000_000)
        #expect(
            try json(alert)
                == #"{"created_at":1700000000,"id":"a1","severity":2,"summary":"process died","title":"greeter (10.244.0.10) - pid failed - restart"}"#
        )
    }

    /// A heartbeat in the Go bosh-agent's shape: fields it could not measure left out
    /// (`platform/vitals/vitals.go` at dda22d9: `omitempty` on every string, on `disk`, `load`
    /// and `uptime.secs`), no `number_of_processes`. It must decode, or
    /// the health monitor would count a live agent as silent and resurrect it.
    @Test func aGoAgentHeartbeatWithOmittedVitalsDecodes() throws {
        let text =
            #"{"deployment":"kv","job":"kv-server","index":1,"job_state":"running","node_id":"uuid-2","vitals":{"cpu":{},"disk":{"system":{"percent":"41"},"ephemeral":{}},"mem":{"kb":"2048","percent":"3"},"swap":{},"uptime":{"secs":17}}}"#
        let heartbeat = try JSONCoding.decoder.decode(Heartbeat.self, from: Data(text.utf8))
        #expect(heartbeat.jobState == "running" && heartbeat.nodeID == "uuid-2" && heartbeat.numberOfProcesses == nil)
        #expect(
            heartbeat.vitals?.disk["system"]?.percent == "41" && heartbeat.vitals?.disk["system"]?.inodePercent == "")
        #expect(
            heartbeat.vitals?.load == [] && heartbeat.vitals?.cpu.user == "" && heartbeat.vitals?.uptime?.secs == 17)
        let bare = #"{"job_state":"running","node_id":"uuid-3","vitals":{"cpu":{},"mem":{},"swap":{},"uptime":{}}}"#
        let fresh = try JSONCoding.decoder.decode(Heartbeat.self, from: Data(bare.utf8))
        #expect(fresh.vitals?.disk == [:] && fresh.vitals?.uptime?.secs == 0 && fresh.deployment == nil)
    }

    @Test func agentSettings() throws {
        let settings = AgentSettings(
            agentID: "agent-1", vm: .init(name: "vm-1"), mbus: "nats://10.244.0.1:4222",
            networks: [
                "default": NetworkSettings(
                    type: "manual", ip: "10.244.0.10", netmask: "255.255.255.0", gateway: "10.244.0.1", dns: nil,
                    default: nil)
            ],
            disks: .init(system: "/dev/sda", ephemeral: "/dev/sdb"), env: ["bosh": ["job_dir": ["tmpfs": true]]])
        #expect(
            try json(settings)
                == #"{"agent_id":"agent-1","disks":{"ephemeral":"/dev/sdb","persistent":{},"system":"/dev/sda"},"env":{"bosh":{"job_dir":{"tmpfs":true}}},"mbus":"nats://10.244.0.1:4222","networks":{"default":{"cloud_properties":{},"gateway":"10.244.0.1","ip":"10.244.0.10","netmask":"255.255.255.0","type":"manual"}},"ntp":[],"vm":{"name":"vm-1"}}"#
        )
    }

    @Test func subjects() {
        #expect(AgentSubjects.inbox(agentID: "a1") == "agent.a1")
        #expect(AgentSubjects.reply(directorUUID: "d1", agentID: "a1", requestID: "r1") == "director.d1.a1.r1")
        #expect(AgentSubjects.directorReplies(directorUUID: "d1") == "director.d1.>")
        #expect(AgentSubjects.heartbeat(agentID: "a1") == "hm.agent.heartbeat.a1")
        #expect(AgentSubjects.alert(agentID: "a1") == "hm.agent.alert.a1")
        #expect(AgentSubjects.shutdown(agentID: "a1") == "hm.agent.shutdown.a1")
    }

    @Test func methodModesFollowTheReference() {
        #expect(AgentMethod.apply(Self.spec).isAsynchronous)
        #expect(!AgentMethod.start.isAsynchronous)
        #expect(AgentMethod.shutdown.isFireAndForget)
        #expect(AgentMethod.getTask(agentTaskID: "x").timeoutRetries == 4)
        #expect(AgentMethod.getState(full: false).timeoutRetries == 2)
        #expect(AgentMethod.apply(Self.spec).timeoutRetries == 0)
    }
}
