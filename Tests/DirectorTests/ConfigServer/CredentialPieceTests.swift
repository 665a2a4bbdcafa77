import BosunCore
import Foundation
import Testing

@testable import Director

/// Which stored values a deploy makes anew (reference §5.5 `update_mode`, `update.strategy`).
struct VariableRotationTests {
    static let manifest = """
        name: app
        variables:
        - {name: kept, type: password}
        - {name: always, type: password, update_mode: overwrite}
        - {name: tuned, type: password, update_mode: converge, options: {length: 40}}
        - {name: per-stemcell, type: rsa, update: {strategy: on-stemcell-change}}
        - {name: ca, type: certificate, options: {is_ca: true, common_name: ca}}
        - {name: leaf, type: certificate, options: {ca: ca, common_name: leaf}}
        - {name: leaf-of-leaf-ca, type: certificate, options: {ca: ca, is_ca: true, common_name: sub}}
        - {name: grandchild, type: certificate, options: {ca: leaf-of-leaf-ca, common_name: deep}}
        - {name: given}

        """

    static func stored(_ names: [String], digests: [String: String] = [:], stemcells: String = "s/1") -> [String: StoredVariable] {
        Dictionary(uniqueKeysWithValues: names.map {
            ("/d/app/\($0)", StoredVariable(value: "x", valueID: $0, optionsDigest: digests[$0], stemcells: stemcells))
        })
    }

    static let all = ["kept", "always", "tuned", "per-stemcell", "ca", "leaf", "leaf-of-leaf-ca", "grandchild", "given"]

    func regenerate(_ stored: [String: StoredVariable], requested: Set<String> = [], stemcells: String = "s/1") -> [String] {
        VariableRotation(manifestText: Self.manifest).toRegenerate(stored: stored, requested: requested, stemcells: stemcells) { "/d/app/" + $0 }
            .map { String($0.dropFirst("/d/app/".count)) }.sorted()
    }

    @Test func noOverwriteKeepsValuesAndOverwriteAlwaysMakesNewOnes() {
        let current = VariableRotation.digest(type: "password", options: ["length": 40])
        #expect(regenerate(Self.stored(Self.all, digests: ["tuned": current])) == ["always"])
    }

    @Test func convergeFollowsTheOptions() {
        let old = VariableRotation.digest(type: "password", options: ["length": 20])
        #expect(regenerate(Self.stored(["tuned"], digests: ["tuned": old])) == ["tuned"])
        // A value stored without a digest (before converge was known) is kept.
        #expect(regenerate(Self.stored(["tuned"])) == [])
    }

    @Test func onStemcellChangeFollowsTheStemcells() {
        #expect(regenerate(Self.stored(["per-stemcell", "kept"]), stemcells: "s/2") == ["per-stemcell"])
        #expect(regenerate(Self.stored(["per-stemcell"]), stemcells: "s/1") == [])
    }

    /// A new CA means every certificate under it, down the chain, is issued again.
    @Test func aRegeneratedCAReissuesWhatItSigns() {
        #expect(regenerate(Self.stored(Self.all), requested: ["/d/app/ca"]) == ["always", "ca", "grandchild", "leaf", "leaf-of-leaf-ca"])
        #expect(regenerate(Self.stored(Self.all), requested: ["/d/app/leaf"]) == ["always", "leaf"])
        // Values not stored yet are simply generated; nothing to regenerate.
        #expect(regenerate([:], requested: ["/d/app/ca"]) == [])
    }

    @Test func unreadableManifestsHaveNoPolicies() {
        #expect(VariableRotation(manifestText: "variables: [").policies.isEmpty)
        #expect(VariableRotation(manifestText: Self.manifest).policies.map(\.name) == Self.all)
    }
}

/// Rendered templates as agents unpack them, built in memory: the system's tar reads them back.
struct RenderedArchiveTests {
    @Test func systemTarUnpacksTheArchive() async throws {
        let long = "job/" + String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60) + ".conf"
        let files = ["job/bin/ctl": "#!/bin/sh\necho hi\n", "job/config/a.yml": "key: value\n", long: "deep\n"]
        let archive = try await RenderedArchive.build(files: files, jobs: ["job", "empty"])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-archive-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/rendered.tgz"
        try archive.bytes.write(to: URL(fileURLWithPath: file))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-xzf", file, "-C", directory]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for (path, text) in files {
            #expect(try String(contentsOfFile: directory + "/" + path, encoding: .utf8) == text, "\(path)")
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory + "/empty", isDirectory: &isDirectory) && isDirectory.boolValue)
        // Each file takes whole pages on a tmpfs.
        #expect(archive.tmpfsBytes == 3 * 4096)
        // The same input gives the same bytes (gzip -n, fixed mtimes): the digest is stable.
        #expect(try await RenderedArchive.build(files: files, jobs: ["job", "empty"]).sha1 == archive.sha1)
    }
}

struct TemplateSizeCheckTests {
    @Test func tmpfsSizesReadAsMountDoes() {
        #expect(TemplateSizeCheck.bytes(of: "100m") == 100 << 20)
        #expect(TemplateSizeCheck.bytes(of: "4K") == 4096)
        #expect(TemplateSizeCheck.bytes(of: "1g") == 1 << 30)
        #expect(TemplateSizeCheck.bytes(of: .int(65536)) == 65536)
        #expect(TemplateSizeCheck.bytes(of: "50%") == nil)
    }

    @Test func theNATSMessageIsTheBase64PayloadAndItsEnvelope() {
        let size = TemplateSizeCheck.uploadMessageBytes(archiveBytes: 300)
        #expect(size > 400 && size < 400 + 512, "\(size)")
    }
}

struct ManifestRedactionTests {
    @Test func propertiesAndEnvAreRedactedKeysKept() throws {
        let document = try YAMLValue.parse("""
            name: app
            instance_groups:
            - name: web
              env: {bosh: {password: secret-hash}}
              jobs: [{name: web, properties: {password: hunter2, ports: [80, 443], tls: {key: k}}}]
            """, source: "m")
        let text = ManifestRedaction.redact(document).yamlText()
        #expect(!text.contains("hunter2") && !text.contains("secret-hash") && !text.contains("443"))
        #expect(text.contains("password: <redacted>") && text.contains("name: web") && text.contains("key: <redacted>"))
    }
}

struct DirectorConfigurationCredentialTests {
    @Test func templateDeliveryAndAgentEnvSettings() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        try """
            enable_nats_delivered_templates: true
            nats: {max_payload_mb: 4}
            agent: {env: {bosh: {job_dir: {tmpfs: true, tmpfs_size: 64m}}}}

            """.write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        let configuration = try DirectorConfiguration.load(stateDirectory: state)
        #expect(configuration.natsDeliveredTemplates)
        #expect(configuration.natsMaxPayloadBytes == 4 << 20)
        #expect(configuration.agentEnvBosh["job_dir"]?["tmpfs_size"] == "64m")
        try "nats: {max_payload_mb: 0}\n".write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        #expect {
            try DirectorConfiguration.load(stateDirectory: state)
        } throws: { error in
            "\(error)".hasSuffix("nats.max_payload_mb must be 1 to 64, found 0")
        }
    }
}

struct HealthMonitorSettingsTests {
    @Test func meltdownNeedsBothTheCountAndTheShare() throws {
        var settings = HealthMonitorSettings()
        #expect(settings.health(down: 0, of: 10) == .normal)
        #expect(settings.health(down: 4, of: 10) == .managed)  // share 40%, but fewer than 5
        #expect(settings.health(down: 5, of: 10) == .meltdown)
        #expect(settings.health(down: 5, of: 100) == .managed)  // 5%, under 20%
        settings.minimumDownJobs = 3
        settings.percentThreshold = 0.5
        #expect(settings.health(down: 3, of: 5) == .meltdown)
        #expect(settings.health(down: 2, of: 5) == .managed)
    }

    @Test func readFromTheDirectorsConfig() throws {
        let settings = try HealthMonitorSettings(
            try YAMLValue.parse("{agent_timeout: 3, analysis_interval: 0.5, resurrector: false, minimum_down_jobs: 2, percent_threshold: 0.5}", source: "t"),
            path: "config.yml")
        #expect(settings.agentTimeout == .seconds(3) && settings.analysisInterval == .milliseconds(500))
        #expect(!settings.resurrector && settings.minimumDownJobs == 2 && settings.percentThreshold == 0.5)
        #expect {
            try HealthMonitorSettings(try YAMLValue.parse("{percent_threshold: 5}", source: "t"), path: "config.yml")
        } throws: { "\($0)" == "config.yml: hm.percent_threshold must be between 0 and 1, found 5" }
    }
}

struct ResurrectionRulesTests {
    @Test func everyApplicableRuleMustAllowIt() {
        let rules = ResurrectionRules(configs: [
            ("off-for-db", "rules: [{enabled: false, include: {deployments: [db]}, exclude: {instance_groups: [proxy]}}]"),
            ("everything", "rules: [{enabled: true}]"),
            ("broken", "rules: ["),
        ])
        #expect(rules.disablingConfig(deployment: "db", group: "postgres") == "off-for-db")
        #expect(rules.disablingConfig(deployment: "db", group: "proxy") == nil)
        #expect(rules.disablingConfig(deployment: "web", group: "postgres") == nil)
        #expect(ResurrectionRules(configs: [("all-off", "rules: [{enabled: false}]")]).disablingConfig(deployment: "x", group: "y") == "all-off")
    }

    @Test func theSwitchSurvivesInAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-resurrection-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let switchFile = ResurrectionSwitch(stateDirectory: directory)
        #expect(!switchFile.isPaused)
        try switchFile.set(paused: true)
        #expect(ResurrectionSwitch(stateDirectory: directory).isPaused)
        try switchFile.set(paused: false)
        try switchFile.set(paused: false)
        #expect(!switchFile.isPaused)
    }
}

/// Variable sets on a real SQLite database: a deploy that generated a value but did not finish
/// leaves `bosun variables` on the last deployed set; every version stays readable.
struct VariableSetTests {
    @Test func aFailedDeploysValuesAreNotTheDeployedSet() async throws {
        try await DirectorDatabaseTests.withConfiguration(.sqlite) { configuration in
            let opened = try await DirectorDatabase.open(configuration, logger: DirectorDatabaseTests.logger)
            let database = opened.database
            let server = try ConfigServer(keyPath: configuration.stateDirectory + "/config-server.key", directorName: "bosun")
            let definition = VariableDefinition(name: "db-password", type: "password")

            let first = DeploymentVariables(server: server, deployment: "app", stored: [:])
            let original = try #require(try first.value(for: definition))
            let set1 = try await server.storeAndRecordSet(first, on: database)
            set1.deployed = true
            try await set1.save(on: database)
            let firstID = try #require(set1.values["/bosun/app/db-password"])

            // A regeneration whose deploy fails: the value is current, the set is not deployed.
            let stored = try await server.values(of: "app", on: database)
            let second = DeploymentVariables(server: server, deployment: "app", stored: stored, regenerate: ["/bosun/app/db-password"])
            let rotated = try #require(try second.value(for: definition))
            #expect(rotated != original)
            let set2 = try await server.storeAndRecordSet(second, on: database)
            #expect(try await VariableSetRecord.current(of: "app", on: database)?.id == set1.id)
            #expect(try await server.values(of: "app", on: database)["/bosun/app/db-password"]?.value == rotated)

            // Both versions are kept, sealed, and open to their values.
            let versions = try await VariableVersionRecord.query(on: database).sort(\.$id).all()
            #expect(versions.map(\.valueID) == [firstID, set2.values["/bosun/app/db-password"] ?? ""])
            #expect(try versions.map { try server.open($0.sealedValue) } == [original, rotated])

            set2.deployed = true
            try await set2.save(on: database)
            #expect(try await VariableSetRecord.current(of: "app", on: database)?.id == set2.id)
            try await server.deleteValues(of: "app", on: database)
            #expect(try await VariableSetRecord.query(on: database).count() == 0)
            #expect(try await VariableVersionRecord.query(on: database).count() == 0)
            await opened.shutdown()
        }
    }
}

struct LinkOrderTests {
    @Test func providersComeBeforeTheirConsumersManifestOrderOtherwise() {
        let groups: [LinkOrder.Group] = [
            .init(name: "web", provides: [], consumes: ["db", "cache"]),
            .init(name: "smoke", provides: [], consumes: ["http"]),
            .init(name: "db", provides: ["db"], consumes: []),
            .init(name: "cache", provides: ["cache"], consumes: ["db"]),
            .init(name: "proxy", provides: ["http"], consumes: ["http"]),
        ]
        #expect(LinkOrder.sorted(groups) == ["db", "cache", "web", "proxy", "smoke"])
        // A cycle keeps manifest order instead of hanging.
        let cycle: [LinkOrder.Group] = [.init(name: "a", provides: ["x"], consumes: ["y"]), .init(name: "b", provides: ["y"], consumes: ["x"])]
        #expect(LinkOrder.sorted(cycle) == ["a", "b"])
    }
}
