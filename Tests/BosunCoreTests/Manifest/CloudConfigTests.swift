import Testing

@testable import BosunCore

@Suite struct CloudConfigTests {
    func problems(cloud: String) -> [String] {
        do {
            _ = try CloudConfig(parsing: cloud)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func readsTheExampleCloudConfig() throws {
        let cloud = try CloudConfig(parsing: try Examples.text("manifests/cloud-config.yml"))
        #expect(cloud.azs.map(\.name) == ["z1", "z2"])
        let network = try #require(cloud.network(named: "default"))
        #expect(network.kind == .manual)
        #expect(network.subnets[0].range?.description == "10.244.0.0/24")
        #expect(network.subnets[0].staticIPs.addresses.count == 21)
        #expect(network.subnets[0].reserved.contains(IPv4Address("10.244.0.5")!))
        #expect(network.subnet(containing: IPv4Address("10.244.1.10")!)?.azs == ["z2"])
        #expect(cloud.compilation?.workers == 2)
        #expect(cloud.diskTypes.first?.diskSize == 1024)
    }

    @Test func reportsSubnetProblems() {
        let cloud = """
            azs: [{name: z1}, {name: z1}]
            networks:
            - name: net
              type: manual
              subnets:
              - range: 10.0.0.5/24
                gateway: 10.0.1.1
                static: [10.0.0.10 - 10.0.0.5, 10.9.0.1]
                azs: [z9]
            - name: net2
              type: mesh
            compilation: {workers: 0, network: missing, az: z1}
            """
        let found = problems(cloud: cloud)
        let expected = [
            "azs[1] (z1).name: duplicate AZ name \"z1\" (also at azs[0] (z1))",
            "networks[0] (net).subnets[0].range: \"10.0.0.5/24\" is not a network address (did you mean 10.0.0.0/24?)",
            "networks[0] (net).subnets[0].gateway: 10.0.1.1 is outside the subnet range 10.0.0.5/24",
            "networks[0] (net).subnets[0].static[0]: IP range \"10.0.0.10 - 10.0.0.5\" starts after it ends",
            "networks[0] (net).subnets[0].static[1]: \"10.9.0.1\" is outside the subnet range 10.0.0.5/24",
            "networks[0] (net).subnets[0].azs: unknown AZ \"z9\"",
            "networks[1] (net2).type: expected one of \"manual\", \"dynamic\", \"vip\", got \"mesh\"",
            "compilation.network: unknown network \"missing\"",
            "compilation.workers: must be at least 1, got 0",
        ]
        for message in expected {
            #expect(found.contains(message), "missing: \(message)\nfound:\n\(found.joined(separator: "\n"))")
        }
    }

    @Test func manifestIsCheckedAgainstTheCloudConfig() throws {
        let cloud = try CloudConfig(parsing: try Examples.text("manifests/cloud-config.yml"))
        let manifest = try DeploymentManifest(
            parsing: """
                name: demo
                releases: [{name: dummy, version: latest}]
                stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
                update: {canaries: 1, max_in_flight: 1, canary_watch_time: 1000, update_watch_time: 1000}
                instance_groups:
                - name: web
                  azs: [z1, z3]
                  instances: 2
                  vm_type: huge
                  vm_extensions: [public-port, gpu]
                  persistent_disk_type: ssd
                  stemcell: default
                  networks: [{name: default, static_ips: [10.244.0.10, 10.244.0.50]}, {name: other}]
                  jobs: [{name: greeter, release: dummy}]
                - name: db
                  instances: 1
                  vm_type: small
                  stemcell: default
                  networks: [{name: default, static_ips: [10.244.0.10]}]
                  jobs: [{name: pg, release: dummy}]
                """.replacingOccurrences(of: "{name: other}", with: "{name: other, default: [dns, gateway]}"))
        let found = manifest.problems(against: cloud).map(\.description)
        let expected = [
            "instance_groups[0] (web).azs: unknown AZ \"z3\" (cloud config defines: z1, z2)",
            "instance_groups[0] (web).vm_type: unknown VM type \"huge\" (cloud config defines: small, compiler)",
            "instance_groups[0] (web).vm_extensions: unknown VM extension \"gpu\" (cloud config defines: public-port)",
            "instance_groups[0] (web).persistent_disk_type: unknown disk type \"ssd\" (cloud config defines: default)",
            "instance_groups[0] (web).networks[0] (default): network \"default\" has no subnet in AZ \"z3\"",
            "instance_groups[0] (web).networks[0] (default).static_ips: 10.244.0.50 is not in the static range of any subnet of network \"default\" in the group's AZs",
            "instance_groups[0] (web).networks[1] (other): unknown network \"other\" (cloud config defines: default)",
            "instance_groups[1] (db).azs: is required: the cloud config defines AZs (z1, z2)",
            "instance_groups[1] (db).networks[0] (default).static_ips: 10.244.0.10 is already used by instance_groups[0] (web)",
        ]
        for message in expected {
            #expect(found.contains(message), "missing: \(message)\nfound:\n\(found.joined(separator: "\n"))")
        }
        #expect(found.count == expected.count, "\(found.joined(separator: "\n"))")
    }

    @Test func runtimeConfigNeedsExactVersions() {
        #expect {
            _ = try RuntimeConfig(parsing: "releases: [{name: os-conf, version: latest}]\naddons: [{name: a, jobs: [{name: j, release: os-conf}]}]")
        } throws: { error in
            (error as? ManifestValidationError)?.problems.map(\.description)
                == ["releases[0] (os-conf).version: runtime configs need an exact release version, not latest"]
        }
        let config = try? RuntimeConfig(
            parsing: """
                releases: [{name: os-conf, version: 22.1.2}]
                addons:
                - name: users
                  jobs: [{name: user_add, release: os-conf, properties: {users: []}}]
                  include: {stemcell: [{os: ubuntu-jammy}], instance_groups: [web]}
                  exclude: {lifecycle: errand}
                """)
        #expect(config?.addons.first?.include?.stemcellOSes == ["ubuntu-jammy"])
        #expect(config?.addons.first?.exclude?.lifecycle == .errand)
    }
}

@Suite struct IPv4Tests {
    @Test func parsesAndPrints() {
        #expect(IPv4Address("10.244.0.1")?.description == "10.244.0.1")
        for bad in ["10.244.0", "10.244.0.256", "a.b.c.d", "1.2.3.4.5", "", "01.2.3.4x"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        let network = IPv4Network("10.244.0.0/22")!
        #expect(network.broadcastAddress.description == "10.244.3.255")
        #expect(network.netmask.description == "255.255.252.0")
        #expect(network.contains(IPv4Address("10.244.2.9")!))
        #expect(!network.contains(IPv4Address("10.244.4.0")!))
    }

    @Test func rangeSetsAcceptAddressesRangesAndBlocks() throws {
        var set = IPv4RangeSet()
        try set.insert(parsing: "10.0.0.1")
        try set.insert(parsing: "10.0.0.5-10.0.0.6")
        try set.insert(parsing: "10.0.1.0/30")
        #expect(set.addresses.map(\.description) == ["10.0.0.1", "10.0.0.5", "10.0.0.6", "10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3"])
    }
}
