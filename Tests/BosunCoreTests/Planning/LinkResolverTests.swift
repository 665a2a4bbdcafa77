import BosunCore
import Testing

struct LinkResolverTests {
    static let serverSpec: JSONValue = ["provides": [["name": "kv", "type": "kv-http", "properties": ["port", "tls.enabled"]]]]
    static let clientSpec: JSONValue = ["consumes": [["name": "kv", "type": "kv-http"], ["name": "cache", "type": "memcache", "optional": true]]]

    static func job(_ group: String, _ name: String, spec: JSONValue, consumes: JSONValue = .null, provides: JSONValue = .null) -> LinkResolver.Job {
        .init(group: group, name: name, spec: spec, manifestConsumes: consumes, manifestProvides: provides,
              properties: ["port": 8080, "tls": ["enabled": false], "secret": "not-exposed"])
    }

    static let instances: [String: [LinkResolver.LinkInstance]] = [
        "kv": [.init(name: "kv", index: 0, id: "a", az: "z1", address: "10.0.0.10", bootstrap: true),
               .init(name: "kv", index: 1, id: "b", az: "z2", address: "10.0.1.10", bootstrap: false)],
        "kv-b": [.init(name: "kv-b", index: 0, id: "c", az: "z1", address: "10.0.0.20", bootstrap: true)],
    ]

    @Test func theOnlyProviderOfTheTypeIsBoundWithItsDeclaredProperties() throws {
        let links = try LinkResolver(
            jobs: [Self.job("kv", "kv-server", spec: Self.serverSpec), Self.job("smoke", "kv-client", spec: Self.clientSpec)],
            instances: Self.instances
        ).resolve()
        let kv = try #require(links["smoke/kv-client"]?["kv"])
        #expect(kv["properties"] == ["port": 8080, "tls": ["enabled": false]])
        #expect(kv["instances"]?.arrayValue?.map { $0["address"] } == ["10.0.0.10", "10.0.1.10"])
        #expect(kv["address"] == "10.0.0.10")
        #expect(links["smoke/kv-client"]?["cache"] == nil)  // optional, nobody provides it
    }

    @Test func severalProvidersNeedFromAndMissingOnesAreNamed() throws {
        let jobs = [
            Self.job("kv", "kv-server", spec: Self.serverSpec),
            Self.job("kv-b", "kv-server", spec: Self.serverSpec, provides: ["kv": ["as": "secondary"]]),
            Self.job("smoke", "kv-client", spec: Self.clientSpec),
        ]
        #expect(throws: PlanningError.self) { try LinkResolver(jobs: jobs, instances: Self.instances).resolve() }
        var chosen = jobs
        chosen[2] = Self.job("smoke", "kv-client", spec: Self.clientSpec, consumes: ["kv": ["from": "secondary"]])
        let links = try LinkResolver(jobs: chosen, instances: Self.instances).resolve()
        #expect(links["smoke/kv-client"]?["kv"]?["instance_group"] == "kv-b")

        let off = try LinkResolver(
            jobs: [Self.job("smoke", "kv-client", spec: Self.clientSpec, consumes: ["kv": nil])], instances: [:]
        ).resolve()
        #expect(off["smoke/kv-client"] == [:])
        #expect(throws: PlanningError("Instance group 'smoke', job 'kv-client': no job provides link 'kv' of type 'kv-http'")) {
            try LinkResolver(jobs: [Self.job("smoke", "kv-client", spec: Self.clientSpec)], instances: [:]).resolve()
        }
    }

    @Test func onlySharedLinksAreOfferedToOtherDeploymentsUnderTheirAliases() {
        let provider = LinkResolver(
            jobs: [
                Self.job("kv", "kv-server", spec: Self.serverSpec, provides: ["kv": ["as": "primary", "shared": true]]),
                Self.job("kv-b", "kv-server", spec: Self.serverSpec),
            ],
            instances: Self.instances, deploymentName: "kv")
        let shared = provider.sharedLinks()
        #expect(shared.map(\.name) == ["primary"])
        #expect(shared.first?.group == "kv")
        #expect(shared.first?.value["instances"]?.arrayValue?.map { $0["address"] } == ["10.0.0.10", "10.0.1.10"])
        #expect(shared.first?.value["properties"] == ["port": 8080, "tls": ["enabled": false]])
    }

    @Test func aConsumerTakesAnotherDeploymentsSharedLinkByFromOrTypeAndBadReferencesAreNamed() throws {
        let offered = SharedLink(name: "primary", type: "kv-http", group: "kv", job: "kv-server", value: ["address": "10.0.0.10"])
        let other = SharedLink(name: "secondary", type: "kv-http", group: "kv-b", job: "kv-server", value: ["address": "10.0.0.20"])
        func resolve(_ consumes: JSONValue, shared: [SharedLink] = [offered]) throws -> JSONValue? {
            try LinkResolver(
                jobs: [Self.job("smoke", "kv-client", spec: Self.clientSpec, consumes: consumes)], instances: [:], deploymentName: "client",
                shared: ["kv": shared]
            ).resolve()["smoke/kv-client"]?["kv"]
        }
        #expect(try resolve(["kv": ["from": "primary", "deployment": "kv"]])?["address"] == "10.0.0.10")
        #expect(try resolve(["kv": ["deployment": "kv"]])?["address"] == "10.0.0.10")
        #expect(try resolve(["kv": ["from": "secondary", "deployment": "kv"]], shared: [offered, other])?["address"] == "10.0.0.20")
        #expect(throws: PlanningError(
            "Instance group 'smoke', job 'kv-client': link 'kv' wants deployment 'nope', which does not exist or shares no link")) {
            try resolve(["kv": ["from": "primary", "deployment": "nope"]])
        }
        #expect(throws: PlanningError(
            "Instance group 'smoke', job 'kv-client': link 'kv' wants 'tertiary' of type 'kv-http' from deployment 'kv', which shares only: primary (kv-http)")) {
            try resolve(["kv": ["from": "tertiary", "deployment": "kv"]])
        }
        #expect(throws: PlanningError.self) { try resolve(["kv": ["deployment": "kv"]], shared: [offered, other]) }
    }
}
