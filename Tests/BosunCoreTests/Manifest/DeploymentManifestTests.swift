import Testing

@testable import BosunCore

@Suite struct DeploymentManifestTests {
    static let minimal = """
        name: demo
        releases: [{name: dummy, version: latest}]
        stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
        update: {canaries: 1, max_in_flight: 2, canary_watch_time: 1000-30000, update_watch_time: 5000}
        instance_groups:
        - name: web
          azs: [z1]
          instances: 2
          vm_type: small
          stemcell: default
          networks: [{name: default}]
          jobs: [{name: greeter, release: dummy}]
        """

    func problems(_ text: String) -> [String] {
        do {
            _ = try DeploymentManifest(parsing: text)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func readsTheExampleWithDefaultsApplied() throws {
        let text = try Examples.text("manifests/greeter.yml")
        let interpolated = try ManifestTemplate(parsing: text).evaluate(
            variables: StaticVariables(["who": "operators", "greeter_secret": "s3cret"]))
        let manifest = try DeploymentManifest(document: interpolated)
        #expect(manifest.name == "greeter")
        let greeter = try #require(manifest.instanceGroup(named: "greeter"))
        #expect(greeter.instances == 2)
        #expect(greeter.networks[0].staticIPs.map(\.description) == ["10.244.0.10", "10.244.1.10"])
        let update = try #require(greeter.update)
        #expect(update.vmStrategy == .createSwapDelete)
        #expect(update.serial)
        #expect(update.maxInFlight(of: 2) == 1)
        #expect(update.canaryWatchTime == WatchTime(minimumMilliseconds: 1000, maximumMilliseconds: 30000))
        #expect(update.initialDeployAZUpdateStrategy == .serial)
        // features.use_tmpfs_config fills the unset tmpfs knobs.
        #expect(greeter.env.jobDirTmpfs)
        #expect(greeter.env.agentSettingsTmpfs)
        #expect(greeter.env.persistentDiskFS == "ext4")
        #expect(manifest.instanceGroup(named: "checker")?.lifecycle == .errand)
        #expect(greeter.jobs[0].properties?["secret"] == "s3cret")
    }

    @Test func instanceGroupUpdateOverridesInherit() throws {
        let text = Self.minimal.replacingOccurrences(of: "  vm_type: small\n", with: "  vm_type: small\n  update: {canaries: 0, serial: false}\n")
        let group = try DeploymentManifest(parsing: text).instanceGroups[0]
        #expect(group.update?.canaries == .count(0))
        #expect(group.update?.maxInFlight == .count(2))
        #expect(group.update?.serial == false)
        #expect(group.update?.vmStrategy == .deleteCreate)
    }

    @Test func reportsEveryProblemWithItsPath() {
        let text = """
            name: demo
            releases: [{name: dummy, version: 1}, {name: dummy, version: 2}]
            stemcells: [{alias: default, os: x, version: 1}]
            update: {canaries: ten, max_in_flight: 0, canary_watch_time: 30000-1000, update_watch_time: soon}
            instance_groups:
            - name: db
              instances: 1
              vm_type: small
              stemcell: default
              networks: [{name: default}]
              jobs: [{name: pg, release: dummy}]
            - name: web
              instances: two
              stemcell: nope
              networks: [{name: default, static_ips: [10.0.0.1]}]
              jobs: [{name: greeter, release: other}, {name: greeter, release: dummy}]
              update: {canaries: 150%, vm_strategy: swap}
              lifecycle: daemon
            """
        let found = problems(text)
        let expected = [
            "releases[1] (dummy).name: duplicate release name \"dummy\" (also at releases[0] (dummy))",
            "update.canaries: expected an integer or a percentage like \"25%\", got \"ten\"",
            "update.max_in_flight: must be at least 1",
            "update.canary_watch_time: range \"30000-1000\" starts after it ends (30000 > 1000)",
            "update.update_watch_time: expected milliseconds or a range like \"1000-30000\", got \"soon\"",
            "instance_groups[1] (web).instances: expected an integer, got \"two\"",
            "instance_groups[1] (web).jobs[0] (greeter).release: release \"other\" is not listed under releases",
            "instance_groups[1] (web).jobs[1] (greeter).name: duplicate job name \"greeter\" (also at instance_groups[1] (web).jobs[0] (greeter))",
            "instance_groups[1] (web).vm_type: is required (or give vm_resources)",
            "instance_groups[1] (web).stemcell: unknown stemcell alias \"nope\" (stemcells define: default)",
            "instance_groups[1] (web).update.canaries: expected an integer or a percentage like \"25%\", got \"150%\"",
            "instance_groups[1] (web).update.vm_strategy: expected one of \"delete-create\", \"create-swap-delete\", got \"swap\"",
            "instance_groups[1] (web).lifecycle: expected one of \"service\", \"errand\", got \"daemon\"",
        ]
        for message in expected {
            #expect(found.contains(message), "missing: \(message)\nfound:\n\(found.joined(separator: "\n"))")
        }
    }

    @Test func staticIPCountMustMatchInstances() {
        let text = Self.minimal.replacingOccurrences(
            of: "networks: [{name: default}]", with: "networks: [{name: default, static_ips: [10.244.0.10]}]")
        #expect(
            problems(text) == [
                "instance_groups[0] (web).networks[0] (default).static_ips: has 1 address for 2 instances; every instance needs exactly one"
            ])
    }

    @Test func severalNetworksNeedOneDefaultEach() {
        let text = Self.minimal.replacingOccurrences(
            of: "networks: [{name: default}]", with: "networks: [{name: a, default: [dns]}, {name: b}]")
        #expect(problems(text) == ["instance_groups[0] (web).networks: with several networks exactly one must have default: [gateway], found 0"])
    }

    @Test func requiredTopLevelKeys() {
        #expect(
            problems("name: x") == [
                "releases: is required", "stemcells: is required", "update: is required", "update.canaries: is required",
                "update.max_in_flight: is required", "update.canary_watch_time: is required",
                "update.update_watch_time: is required", "instance_groups: is required",
            ])
        #expect(problems("- a list") == ["expected a map, got a list", "name: is required", "releases: is required",
            "stemcells: is required", "update: is required", "update.canaries: is required",
            "update.max_in_flight: is required", "update.canary_watch_time: is required",
            "update.update_watch_time: is required", "instance_groups: is required"])
    }

    @Test func canonicalNameClashes() {
        let text = Self.minimal + """

            - name: Web
              instances: 1
              vm_type: small
              stemcell: default
              networks: [{name: default}]
              jobs: []
            """
        #expect(problems(text).contains("instance_groups[1] (Web).name: \"Web\" clashes with \"web\" (names are compared ignoring case and _/-)"))
    }

    @Test(arguments: [
        (CountOrPercentage.percentage(10), 5, 0), (.percentage(50), 5, 2), (.percentage(100), 3, 3), (.count(4), 2, 4),
    ])
    func percentagesTruncateLikeBosh(value: CountOrPercentage, size: Int, expected: Int) {
        #expect(value.resolve(of: size) == expected)
    }

    @Test func watchTimeScheduleFollowsBosh() {
        #expect(WatchTime(minimumMilliseconds: 1000, maximumMilliseconds: 30000).pollSchedule.first == 1000)
        let schedule = WatchTime(minimumMilliseconds: 1000, maximumMilliseconds: 30000).pollSchedule
        #expect(schedule.dropFirst().allSatisfy { $0 == 3222 })
        #expect(schedule.count == 1 + 9)
        #expect(WatchTime(minimumMilliseconds: 0, maximumMilliseconds: 500_000).pollSchedule.dropFirst().first == 15000)
    }
}

@Suite struct AgentEnvironmentTests {
    func group(env: String, useTmpfsConfig: String?) throws -> InstanceGroup {
        var text = DeploymentManifestTests.minimal + "\n  env: \(env)\n"
        if let useTmpfsConfig { text += "features: {use_tmpfs_config: \(useTmpfsConfig)}\n" }
        return try DeploymentManifest(parsing: text).instanceGroups[0]
    }

    @Test func tmpfsKnobsDefaultOff() throws {
        let env = try group(env: "{}", useTmpfsConfig: nil).env
        #expect(!env.jobDirTmpfs)
        #expect(!env.agentSettingsTmpfs)
    }

    @Test func explicitGroupSettingBeatsTheFeatureFlag() throws {
        let env = try group(
            env: "{bosh: {job_dir: {tmpfs: false, tmpfs_size: 64m}, run_dir: {tmpfs_size: 32m}}, persistent_disk_fs: xfs}",
            useTmpfsConfig: "true"
        ).env
        #expect(!env.jobDirTmpfs)
        #expect(env.agentSettingsTmpfs)
        #expect(env.jobDirTmpfsSize == "64m")
        #expect(env.runDirTmpfsSize == "32m")
        #expect(env.persistentDiskFS == "xfs")
    }

    @Test func unknownFilesystemIsReported() {
        #expect {
            _ = try group(env: "{persistent_disk_fs: zfs}", useTmpfsConfig: nil)
        } throws: { error in
            (error as? ManifestValidationError)?.problems.map(\.description)
                == ["instance_groups[0] (web).env.persistent_disk_fs: expected ext4 or xfs, got \"zfs\""]
        }
    }
}
