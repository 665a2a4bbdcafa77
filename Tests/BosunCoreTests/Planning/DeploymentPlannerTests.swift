import Testing

@testable import BosunCore

/// The planner against the example cloud config: AZ spreading, indices, bootstrap, addresses,
/// scaling, and the reasons an instance is touched.
@Suite struct DeploymentPlannerTests {
    static func manifest(
        instances: Int = 3, azs: String = "[z1, z2]", network: String = "{name: default}", stemcell: String = "default",
        extra: String = "", groups: String? = nil, features: String = ""
    ) throws -> DeploymentManifest {
        try DeploymentManifest(parsing: """
            name: kv
            \(features.isEmpty ? "" : "features: \(features)")
            releases: [{name: kv, version: latest}]
            stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
            update: {canaries: 1, max_in_flight: 2, canary_watch_time: 1000, update_watch_time: 1000}
            instance_groups:
            \(groups ?? """
            - name: kv
              instances: \(instances)
              azs: \(azs)
              vm_type: small
              stemcell: \(stemcell)
              networks: [\(network)]
              jobs: [{name: kv-server, release: kv}]
            \(extra)
            """)
            """)
    }

    static let cloud: CloudConfig = try! CloudConfig(parsing: try! Examples.text("manifests/cloud-config.yml"))

    /// Sequential ids so tests can name instances, continuing after the ones already used.
    final class Counter: @unchecked Sendable {
        var next: Int
        init(after actual: [ActualInstance]) {
            next = (actual.compactMap { Int($0.id.dropFirst(3)) }.max() ?? -1) + 1
        }
        func id() -> String {
            defer { next += 1 }
            return "id-\(next)"
        }
    }

    static func plan(
        _ manifest: DeploymentManifest, actual: [ActualInstance] = [], taken: Set<IPv4Address> = [],
        recreate: DeploymentPlanner.Recreate = .none, stemcell: String = "bosun-ubuntu/1.0"
    ) throws(PlanningError) -> DeploymentPlan {
        let counter = Counter(after: actual)
        return try DeploymentPlanner(
            manifest: manifest, cloudConfig: cloud, stemcells: ["default": stemcell], actual: actual,
            ipsTakenElsewhere: taken, recreate: recreate, makeID: counter.id
        ).plan()
    }

    @Test func recreatePersistentDisksTouchesOnlyInstancesWithADiskAndKeepsTheirVMs() throws {
        let withDisk = try Self.manifest(instances: 2, azs: "[z1]", extra: "  persistent_disk_type: default")
        let actual = Self.actual(after: try Self.plan(withDisk))
        var planner = DeploymentPlanner(
            manifest: withDisk, cloudConfig: Self.cloud, stemcells: ["default": "bosun-ubuntu/1.0"], actual: actual, makeID: Counter(after: actual).id)
        #expect(try planner.plan().allInstances.allSatisfy(\.reasons.isEmpty))
        planner.recreatePersistentDisks = true
        let plan = try planner.plan()
        #expect(plan.allInstances.map(\.reasons) == [[.persistentDiskRecreateRequested], [.persistentDiskRecreateRequested]])
        #expect(plan.allInstances.allSatisfy { !$0.needsRecreate })

        let diskless = try Self.manifest(instances: 1, azs: "[z1]")
        let noDisk = Self.actual(after: try Self.plan(diskless))
        var none = DeploymentPlanner(
            manifest: diskless, cloudConfig: Self.cloud, stemcells: ["default": "bosun-ubuntu/1.0"], actual: noDisk, makeID: Counter(after: noDisk).id)
        none.recreatePersistentDisks = true
        #expect(try none.plan().allInstances.allSatisfy(\.reasons.isEmpty))
    }

    /// What the director would record after carrying a plan out.
    static func actual(after plan: DeploymentPlan) -> [ActualInstance] {
        plan.allInstances.map { instance in
            var ips: [String: IPv4Address] = [:]
            for network in instance.networks { ips[network.name] = network.ip }
            return ActualInstance(
                group: instance.group, index: instance.index, id: instance.id, az: instance.az, bootstrap: instance.bootstrap,
                ips: ips, vm: instance.vm, persistentDisk: instance.persistentDisk)
        }
    }

    static func ip(_ text: String) -> IPv4Address { IPv4Address(text)! }

    @Test func aFirstDeploySpreadsAZsAndTakesTheLowestFreeAddresses() throws {
        let plan = try Self.plan(try Self.manifest())
        let instances = plan.allInstances
        #expect(instances.map(\.index) == [0, 1, 2])
        #expect(instances.map(\.az) == ["z1", "z2", "z1"])
        #expect(instances.map(\.bootstrap) == [true, false, false])
        #expect(instances.map { $0.networks[0].ip } == [Self.ip("10.244.0.31"), Self.ip("10.244.1.31"), Self.ip("10.244.0.32")])
        #expect(instances.allSatisfy { $0.reasons == [.created] && $0.needsVM })
        let first = instances[0].networks[0]
        #expect(first.netmask == Self.ip("255.255.255.0"))
        #expect(first.gateway == Self.ip("10.244.0.1"))
        #expect(first.defaults == ["dns", "gateway"])
        #expect(instances[0].vm.cloudProperties == ["cpu": 1, "ram": 512, "ephemeral_disk": 2048])
        #expect(instances[0].vm.stemcell == "bosun-ubuntu/1.0")
    }

    @Test func addressesTakenElsewhereAreSkipped() throws {
        let plan = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]"), taken: [Self.ip("10.244.0.31"), Self.ip("10.244.0.32")])
        #expect(plan.allInstances[0].networks[0].ip == Self.ip("10.244.0.33"))
    }

    @Test func anUnchangedRedeployTouchesNothing() throws {
        let manifest = try Self.manifest()
        let first = try Self.plan(manifest)
        let second = try Self.plan(manifest, actual: Self.actual(after: first))
        #expect(second.allInstances.map(\.id) == first.allInstances.map(\.id))
        #expect(second.allInstances.allSatisfy { !$0.isChanged }, "\(second.allInstances.map(\.reasons))")
        #expect(second.allObsolete.isEmpty)
    }

    @Test func scalingUpKeepsEveryoneAndScalingDownRemovesFromTheBusiestAZ() throws {
        let three = try Self.plan(try Self.manifest(instances: 3))
        let five = try Self.plan(try Self.manifest(instances: 5), actual: Self.actual(after: three))
        #expect(five.allInstances.map(\.index) == [0, 1, 2, 3, 4])
        #expect(five.allInstances.map(\.az) == ["z1", "z2", "z1", "z2", "z1"])
        #expect(five.allInstances.filter(\.isNew).map(\.index) == [3, 4])
        #expect(five.allInstances.filter { !$0.isNew }.allSatisfy { !$0.isChanged })
        // New instances do not take addresses the kept ones hold.
        #expect(Set(five.allInstances.compactMap { $0.networks[0].ip }).count == 5)

        let two = try Self.plan(try Self.manifest(instances: 2), actual: Self.actual(after: five))
        #expect(two.allInstances.map(\.index) == [0, 1])
        #expect(two.allObsolete.map(\.index).sorted() == [2, 3, 4])
        #expect(two.allInstances.first?.bootstrap == true)
    }

    /// `features.use_tmpfs_config` is written into the env of groups that do not say, as BOSH
    /// does, so flipping it recreates their VMs and the plan says why.
    @Test func useTmpfsConfigFillsTheEnvAndIsAReason() throws {
        let before = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]"))
        let plan = try Self.plan(
            try Self.manifest(instances: 1, azs: "[z1]", features: "{use_tmpfs_config: true}"), actual: Self.actual(after: before))
        #expect(plan.allInstances[0].reasons == [.tmpfsChanged("job_dir.tmpfs unset -> true, agent.settings.tmpfs unset -> true")])
        #expect(plan.allInstances[0].vm.env.value(at: ["bosh", "job_dir", "tmpfs"]) == .bool(true))
        #expect(plan.allInstances[0].needsRecreate)

        // A group that says otherwise keeps its own setting.
        let own = try Self.manifest(
            instances: 1, azs: "[z1]", extra: "  env: {bosh: {job_dir: {tmpfs: false}}}", features: "{use_tmpfs_config: true}")
        let ownGroup = try #require(own.instanceGroups.first)
        #expect(!ownGroup.env.jobDirTmpfs && ownGroup.env.agentSettingsTmpfs)
    }

    @Test func newIndicesNeverReuseOnesInUse() throws {
        let three = try Self.plan(try Self.manifest(instances: 3, azs: "[z1]"))
        var actual = Self.actual(after: three)
        actual.removeAll { $0.index == 1 }  // e.g. deleted by hand
        let plan = try Self.plan(try Self.manifest(instances: 3, azs: "[z1]"), actual: actual)
        #expect(plan.allInstances.map(\.index) == [0, 2, 3])
    }

    @Test func changedStemcellEnvVMTypeAndDiskAreReasons() throws {
        let before = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]"))
        let actual = Self.actual(after: before)
        let stemcell = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]"), actual: actual, stemcell: "bosun-ubuntu/2.0")
        #expect(stemcell.allInstances[0].reasons == [.stemcellChanged(from: "bosun-ubuntu/1.0", to: "bosun-ubuntu/2.0")])
        #expect(stemcell.allInstances[0].needsRecreate)

        let changed = try Self.plan(
            try Self.manifest(instances: 1, azs: "[z1]", extra: "  env: {bosh: {job_dir: {tmpfs: true}}}\n  vm_extensions: [public-port]\n  persistent_disk: 2048"),
            actual: actual)
        #expect(
            changed.allInstances[0].reasons == [.cloudPropertiesChanged, .tmpfsChanged("job_dir.tmpfs unset -> true"), .persistentDiskChanged(fromMB: 0, toMB: 2048)])

        let otherEnv = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]", extra: "  env: {persistent_disk_fs: xfs}"), actual: actual)
        #expect(otherEnv.allInstances[0].reasons == [.envChanged])

        let diskOnly = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]", extra: "  persistent_disk_type: default"), actual: actual)
        #expect(diskOnly.allInstances[0].reasons == [.persistentDiskChanged(fromMB: 0, toMB: 1024)])
        #expect(!diskOnly.allInstances[0].needsRecreate)

        let recreate = try Self.plan(try Self.manifest(instances: 1, azs: "[z1]"), actual: actual, recreate: .instances(["kv/0"]))
        #expect(recreate.allInstances[0].reasons == [.recreateRequested])
    }

    @Test func staticIPsStayWithTheirInstanceAndDecideTheAZ() throws {
        let manifest = try Self.manifest(instances: 2, network: "{name: default, static_ips: [10.244.1.12, 10.244.0.11]}")
        let plan = try Self.plan(manifest)
        #expect(plan.allInstances.map { $0.networks[0].ip } == [Self.ip("10.244.1.12"), Self.ip("10.244.0.11")])
        #expect(plan.allInstances.map(\.az) == ["z2", "z1"])
        #expect(plan.allInstances.map { $0.networks[0].isStatic } == [true, true])

        // Drop one address, add another: the kept instance keeps its address, the other goes.
        let next = try Self.plan(
            try Self.manifest(instances: 2, network: "{name: default, static_ips: [10.244.0.11, 10.244.0.12]}"),
            actual: Self.actual(after: plan))
        let byIP = Dictionary(uniqueKeysWithValues: next.allInstances.map { ($0.networks[0].ip!.description, $0) })
        #expect(byIP["10.244.0.11"]?.id == plan.allInstances[1].id)
        #expect(byIP["10.244.0.11"]?.isChanged == false)
        #expect(byIP["10.244.0.12"]?.isNew == true)
        #expect(next.allObsolete.map(\.id) == [plan.allInstances[0].id])
    }

    @Test func anExhaustedRangeNamesTheInstanceAndNetwork() throws {
        // 10.244.0.31 – 10.244.0.254 is 224 dynamic addresses in z1.
        let manifest = try Self.manifest(instances: 225, azs: "[z1]")
        #expect(throws: PlanningError(
            "Failed to reserve IP for 'kv/id-224 (224)' on network 'default': no more available addresses in the subnets of AZ 'z1'"
        )) { try Self.plan(manifest) }
    }

    @Test func instancesOfADroppedGroupAreObsolete() throws {
        let first = try Self.plan(try Self.manifest(instances: 2))
        var actual = Self.actual(after: first)
        actual.append(ActualInstance(group: "old", index: 0, id: "old-0", az: "z1", bootstrap: true, ips: [:], vm: nil, persistentDisk: nil))
        let plan = try Self.plan(try Self.manifest(instances: 2), actual: actual)
        #expect(plan.obsoleteGroups.keys.sorted() == ["old"])
        #expect(plan.allObsolete.map(\.id) == ["old-0"])
    }

    @Test func movingAnInstanceOutOfAnAZMakesItObsoleteAndBalancesTheRest() throws {
        let first = try Self.plan(try Self.manifest(instances: 4))
        let plan = try Self.plan(try Self.manifest(instances: 4, azs: "[z1]"), actual: Self.actual(after: first))
        #expect(plan.allInstances.allSatisfy { $0.az == "z1" })
        #expect(plan.allInstances.filter(\.isNew).map(\.index) == [4, 5])
        #expect(plan.allObsolete.map(\.az) == ["z2", "z2"])
    }
}
