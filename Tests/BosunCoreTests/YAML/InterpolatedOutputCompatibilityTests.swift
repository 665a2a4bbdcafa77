import Foundation
import Testing

@testable import BosunCore

/// What `bosun int` prints after ops and variables must itself be exactly what go-yaml would print
/// for the same data: feeding Bosun's output through go-yaml v2 must change nothing.
@Suite struct InterpolatedOutputCompatibilityTests {
    static let manifest = """
        name: ((name))
        releases: [{name: dummy, version: "1.10"}, {name: other, version: 2.0}]
        update: {canaries: 1, max_in_flight: 10%, canary_watch_time: 1000-30000, update_watch_time: 1000-30000}
        instance_groups:
        - name: web
          instances: ((count))
          jobs:
          - name: greeter
            release: dummy
            properties:
              who: ((who))
              motd: "Welcome to ((name)): a long message of the day that certainly goes past the eighty column limit"
              cert: ((cert))
              ports: [80, 443, "8080"]
              flags: {enabled: ((enabled)), ratio: ((ratio)), empty: {}, none: ~}
        variables:
        - {name: cert, type: certificate}
        - {name: unresolved, type: password}
        """

    static let ops = """
        - type: replace
          path: /instance_groups/name=web/jobs/-
          value: {name: checker, release: other, properties: {target: "((name)).example.com", "yes": no}}
        - type: replace
          path: /instance_groups/0/env?/bosh/job_dir/tmpfs
          value: true
        - type: remove
          path: /releases/name=other/version
        - type: replace
          path: /instance_groups/name=web/jobs/name=greeter:before
          value: {name: first, release: dummy}
        """

    @Test func interpolatedOutputIsAGoYAMLFixedPoint() throws {
        let certificate: YAMLValue = [
            "ca": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n",
            "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
        ]
        let variables = StaticVariables([
            "name": "demo", "count": 3, "who": "yes", "enabled": "on", "ratio": 0.5, "cert": certificate,
        ])
        let result = try ManifestTemplate(parsing: Self.manifest).evaluate(
            variables: variables, opsFiles: [try OpsFile(parsing: Self.ops, source: "ops.yml")])
        let ours = result.yamlText()
        #expect(ours.contains("who: \"yes\"\n"))
        #expect(ours.contains("enabled: \"on\"\n"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bosun-fixed-point-\(UUID().uuidString).yml")
        try ours.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let goOutput = try #require(try YAMLv2Oracle.roundTrip([file]).first).get()
        #expect(ours == goOutput)
    }
}
