import BosunCore
import Testing

struct AddonPlacementTests {
    static let manifest = try! DeploymentManifest(parsing: """
        name: kv
        releases: [{name: kv, version: latest}]
        stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
        update: {canaries: 1, max_in_flight: 1, canary_watch_time: 1000, update_watch_time: 1000}
        instance_groups:
        - {name: web, instances: 1, azs: [z1], vm_type: small, stemcell: default, networks: [{name: default}], jobs: [{name: server, release: kv}]}
        - {name: db, instances: 1, azs: [z2], vm_type: small, stemcell: default, networks: [{name: private}], jobs: [{name: store, release: kv}]}
        - {name: smoke, lifecycle: errand, instances: 1, azs: [z1], vm_type: small, stemcell: default, networks: [{name: default}], jobs: [{name: check, release: kv}]}
        """)

    static func runtime(_ addons: String, releases: String = "[{name: os-conf, version: '22'}]") throws -> RuntimeConfig {
        try RuntimeConfig(parsing: "releases: \(releases)\naddons:\n\(addons)")
    }

    func jobs(_ manifest: DeploymentManifest) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: manifest.instanceGroups.map { ($0.name, $0.jobs.map(\.name)) })
    }

    @Test func includeAndExcludeChooseTheGroups() throws {
        let everywhere = try Self.manifest.applyingAddons([try Self.runtime("- {name: everywhere, jobs: [{name: sysctl, release: os-conf}]}")])
        #expect(jobs(everywhere) == ["web": ["server", "sysctl"], "db": ["store", "sysctl"], "smoke": ["check", "sysctl"]])
        #expect(everywhere.releases.map(\.name) == ["kv", "os-conf"])

        let filtered = try Self.manifest.applyingAddons([try Self.runtime("""
            - name: services
              jobs: [{name: sysctl, release: os-conf}]
              include: {stemcell: [{os: ubuntu-jammy}], lifecycle: service}
              exclude: {jobs: [{name: store, release: kv}]}
            """)])
        #expect(jobs(filtered) == ["web": ["server", "sysctl"], "db": ["store"], "smoke": ["check"]])

        let byNetworkAndAZ = try Self.manifest.applyingAddons([try Self.runtime("""
            - {name: a, jobs: [{name: sysctl, release: os-conf}], include: {networks: [private], azs: [z2, z3]}}
            """)])
        #expect(jobs(byNetworkAndAZ) == ["web": ["server"], "db": ["store", "sysctl"], "smoke": ["check"]])
    }

    @Test func conflictsAreNamed() throws {
        #expect(throws: PlanningError("Addon 'dup': instance group 'web' already has a job named 'server'")) {
            try Self.manifest.applyingAddons([try Self.runtime("- {name: dup, jobs: [{name: server, release: os-conf}], include: {instance_groups: [web]}}")])
        }
        let other = try Self.runtime("- {name: x, jobs: [{name: y, release: kv}]}", releases: "[{name: kv, version: '3'}]")
        // The deployment asks for kv 'latest'; a runtime config pinning kv does not conflict with that.
        #expect(try Self.manifest.applyingAddons([other]).releases.count == 1)
    }
}
