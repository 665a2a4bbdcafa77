import Testing

@testable import BosunCore

@Suite struct RenderedChangesTests {
    static func instance(_ id: String, reasons: [ChangeReason] = []) -> InstancePlan {
        InstancePlan(
            group: "web", index: 0, id: id, az: "z1", bootstrap: false, actual: nil, networks: [],
            vm: VMDescription(stemcell: "s/1", cloudProperties: [:], env: [:]), persistentDisk: nil, reasons: reasons)
    }

    static let plan = DeploymentPlan(
        instanceGroups: [
            InstanceGroupPlan(
                name: "web",
                instances: [
                    instance("same"), instance("rendered-anew"), instance("never-applied"),
                    instance("new", reasons: [.created]),
                    instance("detached", reasons: [.missingVM]), instance("woken", reasons: [.missingVM]),
                ],
                obsolete: [])
        ], obsoleteGroups: [:])

    @Test func renderedDifferencesAreChangesAndDetachedInstancesStayDetachedUnlessWoken() {
        let refined = Self.plan.addingRenderedChanges(
            running: ["same": "a", "rendered-anew": "old", "never-applied": nil, "detached": "d", "woken": "w"],
            rendered: [
                "same": "a", "rendered-anew": "new", "never-applied": "x", "new": "n", "detached": "d2", "woken": "w",
            ],
            detached: ["detached", "woken"], wake: ["woken"])
        let reasons = Dictionary(uniqueKeysWithValues: refined.allInstances.map { ($0.id, $0.reasons) })
        #expect(reasons["same"] == [])
        #expect(reasons["rendered-anew"] == [.configurationChanged])
        #expect(reasons["never-applied"] == [.configurationChanged])
        #expect(reasons["new"] == [.created], "a planned reason is kept")
        #expect(reasons["detached"] == [], "stop --hard left it without a VM; a deploy does not wake it")
        #expect(reasons["woken"] == [.missingVM])
    }
}
