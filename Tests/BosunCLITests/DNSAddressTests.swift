import BosunCore
import Foundation
import TestSupport
import Testing

/// `features.use_dns_addresses`: links carry BOSH DNS names, every VM gets the director's DNS
/// records (`sync_dns`) and resolves them from `/etc/hosts`, and a scale-up reaches VMs that
/// were already running. Needs root.
@Suite("DNS addresses", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct DNSAddressTests {
    typealias Bed = DeployTests.Bed

    static func manifest(_ base: String, servers: Int) -> String {
        base
            .replacingOccurrences(of: "name: kv\n\nreleases:", with: "name: kv\n\nfeatures: {use_dns_addresses: true}\n\nreleases:")
            .replacingOccurrences(of: "- name: kv-server\n  azs: [z1, z2]\n  instances: 3\n", with: "- name: kv-server\n  azs: [z1]\n  instances: \(servers)\n")
            .replacingOccurrences(of: "  - name: kv-smoke\n    release: kv\n", with: "  - name: kv-smoke\n    release: kv\n    properties: {interval: 1}\n")
    }

    /// The addresses a name resolves to inside a VM (`getent ahostsv4`).
    static func resolve(_ bed: Bed, vm: String, _ name: String) async throws -> Set<String> {
        let output = try await bed.inVM(vm, "getent ahostsv4 \(name) || true")
        return Set(output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    @Test("links carry DNS names that resolve on every VM, one per instance and a q-s0 name for the group; a scale-up reaches running VMs")
    func linksUseDNSNames() async throws {
        try await Bed.with { bed in
            try await DeployTests.prepare(bed)
            let base = try await DeployTests.uploadExampleRelease(bed)
            #expect(base.contains("name: kv\n\nreleases:"), "the example manifest's layout changed: \(base.prefix(200))")
            let deployed = try await bed.deployNamed("kv", Self.manifest(base, servers: 2))
            #expect(deployed.status == 0, "\(deployed.stdout)")

            let rows = try await bed.instances(deployment: "kv")
            let servers = rows.filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }
            let names = Dictionary(uniqueKeysWithValues: servers.map { row in
                let id = (row["instance"]?.stringValue ?? "").split(separator: "/").last.map(String.init) ?? ""
                return ("\(id).kv-server.default.kv.bosh", row["ips"]?.stringValue ?? "")
            })
            #expect(names.count == 2)
            let smokeVM = try #require(try await bed.vmCIDs(deployment: "kv").first { $0.key.hasPrefix("kv-smoke/") }?.value)

            // The checker was rendered with the servers' names and reaches them by name.
            let script = try await bed.inVM(smokeVM, "cat /var/vcap/jobs/kv-smoke/bin/check")
            for name in names.keys { #expect(script.contains("\(name):8080"), "\(script)") }
            var log = ""
            for _ in 0..<30 {
                log = try await bed.inVM(smokeVM, "cat /var/vcap/sys/log/kv-smoke/*.stdout.log 2>/dev/null || true")
                if names.keys.allSatisfy({ log.contains("\($0):8080 ok") }) { break }
                try await Task.sleep(for: .seconds(1))
            }
            #expect(names.keys.allSatisfy { log.contains("\($0):8080 ok") }, "\(log)")

            // Each name resolves to its instance's address; the group name to all of them.
            for (name, ip) in names { #expect(try await Self.resolve(bed, vm: smokeVM, name) == [ip], "\(name)") }
            #expect(try await Self.resolve(bed, vm: smokeVM, "q-s0.kv-server.default.kv.bosh") == Set(names.values))
            let records = try await bed.inVM(smokeVM, "cat /var/vcap/instance/dns/records.json")
            let document = try JSONCoding.decoder.decode(JSONValue.self, from: Data(records.utf8))
            #expect(document["record_keys"]?.arrayValue?.contains("instance_group") == true, "\(records)")

            // A third server: a server VM the scale-up does not touch learns the new name too.
            let untouched = try #require(try await bed.vmCIDs(deployment: "kv").first { $0.key.hasPrefix("kv-server/") })
            let scaled = try await bed.deployNamed("kv", Self.manifest(base, servers: 3))
            #expect(scaled.status == 0, "\(scaled.stdout)")
            #expect(!scaled.stdout.contains("Updating instance kv-server: \(untouched.key)"), "\(scaled.stdout)")
            let grown = try await bed.instances(deployment: "kv").filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }
            #expect(grown.count == 3)
            #expect(
                try await Self.resolve(bed, vm: untouched.value, "q-s0.kv-server.default.kv.bosh") == Set(grown.compactMap { $0["ips"]?.stringValue }))

            try await bed.succeed(["-n", "-d", "kv", "delete-deployment"])
            #expect(try await bed.containers().isEmpty)
        }
    }
}
