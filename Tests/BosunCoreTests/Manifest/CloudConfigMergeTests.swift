import Testing

@testable import BosunCore

@Suite struct CloudConfigMergeTests {
    static func named(_ name: String, _ text: String) throws -> CloudConfigMerge.Named {
        CloudConfigMerge.Named(name: name, document: try YAMLValue.parse(text))
    }

    @Test func joinsEveryConfigsListsInNameOrder() throws {
        let merged = try CloudConfigMerge.merge([
            try Self.named("vms", "vm_types: [{name: big}]\nazs: [{name: z2}]"),
            try Self.named(
                "default",
                "azs: [{name: z1}]\nnetworks: [{name: default, type: dynamic}]\ncompilation: {workers: 2, az: z1, network: default}"
            ),
        ])
        #expect(merged["azs"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["z1", "z2"])
        #expect(merged["vm_types"]?.arrayValue?.count == 1 && merged["networks"]?.arrayValue?.count == 1)
        #expect(merged["compilation"]?["workers"] == 2)
        let cloud = try CloudConfig(document: merged)
        #expect(cloud.az(named: "z2") != nil && cloud.network(named: "default") != nil)
    }

    @Test func aSingleConfigIsReadAsItIs() throws {
        let only = try Self.named("default", "azs: [{name: z1}]\nextra: kept")
        #expect(try CloudConfigMerge.merge([only]) == only.document)
    }

    @Test func aNameInTwoConfigsIsAnErrorNamingBoth() throws {
        #expect(
            throws: CloudConfigMerge.Conflict(description: "vm_types 'small' is defined by cloud configs 'a' and 'b'")
        ) {
            try CloudConfigMerge.merge([
                try Self.named("b", "vm_types: [{name: small}]"), try Self.named("a", "vm_types: [{name: small}]"),
            ])
        }
        #expect(throws: CloudConfigMerge.Conflict.self) {
            try CloudConfigMerge.merge([
                try Self.named("a", "compilation: {workers: 1}"), try Self.named("b", "compilation: {workers: 2}"),
            ])
        }
    }
}
