import BosunCore
import Foundation
import TestSupport
import Testing

/// Links across deployments: a provider marks its link `shared: true`, another deployment
/// consumes it with `from:` and `deployment:`, and sees the provider as of its last deploy.
/// Needs root.
@Suite("cross-deployment links", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct CrossDeploymentLinkTests {
    typealias Bed = DeployTests.Bed

    /// The example deployment with `servers` kv servers in one AZ, sharing their link as `kv-primary`.
    static func provider(_ base: String, servers: Int) -> String {
        base
            .replacingOccurrences(of: "- name: kv-server\n  azs: [z1, z2]\n  instances: 3\n", with: "- name: kv-server\n  azs: [z1]\n  instances: \(servers)\n")
            .replacingOccurrences(
                of: "    properties:\n      port: 8080\n",
                with: "    provides: {kv: {as: kv-primary, shared: true}}\n    properties:\n      port: 8080\n")
    }

    /// A second deployment: one smoke checker that finds the servers of deployment `kv`.
    static func watcher(from link: String, deployment: String) -> String {
        """
        name: watcher
        releases: [{name: kv, version: latest}]
        stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
        update: {canaries: 1, max_in_flight: 1, canary_watch_time: 1000-30000, update_watch_time: 1000-30000}
        instance_groups:
        - name: watch
          azs: [z1]
          instances: 1
          vm_type: small
          stemcell: default
          networks: [{name: default}]
          jobs:
          - name: kv-smoke
            release: kv
            consumes: {kv: {from: \(link), deployment: \(deployment)}}
            properties: {interval: 1}

        """
    }

    /// The addresses of deployment kv's servers.
    static func serverIPs(_ bed: Bed) async throws -> Set<String> {
        Set(try await bed.instances(deployment: "kv").filter { ($0["instance"]?.stringValue ?? "").hasPrefix("kv-server/") }.compactMap { $0["ips"]?.stringValue })
    }

    /// The server addresses the watcher's rendered check script lists.
    static func watchedServers(_ bed: Bed) async throws -> Set<String> {
        let vm = try #require(try await bed.vmCIDs(deployment: "watcher").values.first)
        let script = try await bed.inVM(vm, "cat /var/vcap/jobs/kv-smoke/bin/check")
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("servers=") }, "\(script)")
        return Set(line.dropFirst("servers=\"".count).dropLast().split(separator: " ").map(String.init))
    }

    @Test("a deployment consumes another's shared link and follows it when the provider scales; unshared, unknown or deleted providers fail before any VM is touched")
    func consumeSharedLink() async throws {
        try await Bed.with { bed in
            try await DeployTests.prepare(bed)
            let base = try await DeployTests.uploadExampleRelease(bed)

            // The watcher cannot deploy before the provider shares anything — found before its
            // other group's package is compiled (no compilation VM either).
            let withStore = Self.watcher(from: "kv-primary", deployment: "kv") + """
                - name: store
                  azs: [z1]
                  instances: 1
                  vm_type: small
                  stemcell: default
                  networks: [{name: default}]
                  jobs: [{name: kv-server, release: kv, properties: {port: 8080, password: secret}}]

                """
            let early = try await bed.deployNamed("watcher", withStore)
            #expect(early.status == 1)
            #expect(early.stdout.contains("link 'kv' wants deployment 'kv', which does not exist or shares no link"), "\(early.stdout)")
            #expect(!early.stdout.contains("Compiling packages"), "\(early.stdout)")
            #expect(try await bed.containers().isEmpty, "nothing was created")

            #expect(try await bed.deployNamed("kv", Self.provider(base, servers: 2)).status == 0)
            let servers = try await Self.serverIPs(bed)
            #expect(servers.count == 2)

            // A wrong alias is named with what the provider does share.
            let wrong = try await bed.deployNamed("watcher", Self.watcher(from: "kv-secondary", deployment: "kv"))
            #expect(wrong.status == 1)
            #expect(
                wrong.stdout.contains("link 'kv' wants 'kv-secondary' of type 'kv-http' from deployment 'kv', which shares only: kv-primary (kv-http)"),
                "\(wrong.stdout)")

            let watched = try await bed.deployNamed("watcher", Self.watcher(from: "kv-primary", deployment: "kv"))
            #expect(watched.status == 0, "\(watched.stdout)")
            #expect(try await Self.watchedServers(bed) == Set(servers.map { $0 + ":8080" }))
            // The checker really reaches the other deployment's servers.
            let vm = try #require(try await bed.vmCIDs(deployment: "watcher").values.first)
            var log = ""
            for _ in 0..<30 {
                log = try await bed.inVM(vm, "cat /var/vcap/sys/log/kv-smoke/*.stdout.log 2>/dev/null || true")
                if servers.allSatisfy({ server in log.contains("\(server):8080 ok") }) { break }
                try await Task.sleep(for: .seconds(1))
            }
            #expect(servers.allSatisfy { server in log.contains("\(server):8080 ok") }, "\(log)")

            // The provider scales; the watcher's next deploy follows.
            #expect(try await bed.deployNamed("kv", Self.provider(base, servers: 3)).status == 0)
            let grown = try await Self.serverIPs(bed)
            #expect(grown.count == 3 && grown.isSuperset(of: servers))
            #expect(try await bed.deployNamed("watcher", Self.watcher(from: "kv-primary", deployment: "kv")).status == 0)
            #expect(try await Self.watchedServers(bed) == Set(grown.map { $0 + ":8080" }))

            // A provider that stops sharing (or is deleted) withdraws the link.
            let unshared = Self.provider(base, servers: 3).replacingOccurrences(of: "shared: true", with: "shared: false")
            #expect(try await bed.deployNamed("kv", unshared).status == 0)
            let withdrawn = try await bed.deployNamed("watcher", Self.watcher(from: "kv-primary", deployment: "kv"))
            #expect(withdrawn.status == 1)
            #expect(withdrawn.stdout.contains("which does not exist or shares no link"), "\(withdrawn.stdout)")

            try await bed.succeed(["-n", "-d", "watcher", "delete-deployment"])
            try await bed.succeed(["-n", "-d", "kv", "delete-deployment"])
            #expect(try await bed.containers().isEmpty)
            #expect(try await bed.loopDevices().isEmpty)
        }
    }
}
