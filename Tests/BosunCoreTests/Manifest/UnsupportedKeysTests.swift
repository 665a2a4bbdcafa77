import Testing

@testable import BosunCore

/// Keys BOSH honours that Bosun cannot yet: each refused by name, never silently ignored.
@Suite struct UnsupportedKeysTests {
    static func keys(_ extra: String, group: String = "", env: String = "") throws -> [String] {
        let text =
            DeploymentManifestTests.minimal.replacingOccurrences(
                of: "  jobs: [{name: greeter, release: dummy}]",
                with: "  jobs: [{name: greeter, release: dummy\(group)}]\n" + env) + "\n" + extra
        return try DeploymentManifest(parsing: text).unsupportedKeys()
    }

    @Test func anOrdinaryManifestUsesNone() throws {
        #expect(try Self.keys("") == [])
        #expect(try Self.keys("features: {converge_variables: false, use_dns_addresses: true}") == [])
        #expect(try Self.keys("", env: "  env: {persistent_disk_fs: ext4}") == [])
    }

    @Test(arguments: [
        ("features: {converge_variables: true}", "features.converge_variables"),
        ("features: {randomize_az_placement: true}", "features.randomize_az_placement"),
        ("features: {use_short_dns_addresses: true}", "features.use_short_dns_addresses"),
        ("features: {use_link_dns_names: true}", "features.use_link_dns_names"),
    ])
    func featuresAreNamed(extra: String, path: String) throws {
        let found = try Self.keys(extra)
        #expect(
            found.count == 1 && found[0].hasPrefix(path + ": ") && found[0].hasSuffix("Bosun does not support it yet"),
            "\(found)")
    }

    @Test func groupKeysAreNamedWithTheirGroupAndJob() throws {
        #expect(
            try Self.keys("", env: "  env: {persistent_disk_fs: xfs}") == [
                "instance_groups[0] (web).env.persistent_disk_fs: xfs (agents format ext4 only) — Bosun does not support it yet"
            ])
        #expect(
            try Self.keys("", group: ", custom_provider_definitions: [{name: p, type: t}]") == [
                "instance_groups[0] (web).jobs[0] (greeter).custom_provider_definitions: custom link providers — Bosun does not support it yet"
            ])
        #expect(
            try Self.keys("", env: "  migrated_from: [{name: old-web, az: z1}]").first?.hasPrefix(
                "instance_groups[0] (web).migrated_from") == true)
    }

    @Test func anAZsCPIIsNamed() throws {
        let cloud = try CloudConfig(
            parsing:
                "azs: [{name: z1}, {name: z2, cpi: aws-east}]\nnetworks: [{name: default, type: dynamic}]\nvm_types: [{name: small}]\ncompilation: {workers: 1, az: z1, network: default}"
        )
        #expect(
            cloud.unsupportedKeys() == [
                "azs[1] (z2).cpi: 'aws-east' — Bosun drives one CPI and does not support cpi-config yet"
            ])
    }
}
