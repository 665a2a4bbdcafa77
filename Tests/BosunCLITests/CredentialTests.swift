import BosunCore
import Foundation
import TestSupport
import Testing

/// Issue 9 end to end: generated credentials with `use_tmpfs_config` and templates over NATS
/// live only in VM memory; a rebooted tmpfs VM gets its templates back without being recreated;
/// templates that would not fit are refused before any VM is touched. Needs root.
@Suite("credentials in memory", .serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "needs root"))
struct CredentialTests {
    typealias Bed = DeployTests.Bed

    /// Two groups of the fixture's greeter: one renders a generated password, the other the
    /// private key of a certificate signed by a generated CA.
    static func manifest(
        tmpfs: Bool, keyholderSecret: String = "((greeter-tls.private_key))", extraEnv: String = ""
    ) -> String {
        """
        name: greet
        releases: [{name: dummy, version: latest}]
        stemcells: [{alias: default, os: ubuntu-jammy, version: latest}]
        update: {canaries: 1, max_in_flight: 2, canary_watch_time: 500-30000, update_watch_time: 500-30000}
        \(tmpfs ? "features: {use_tmpfs_config: true}" : "")
        instance_groups:
        - name: greeter
          instances: 1
          azs: [z1]
          vm_type: small
          stemcell: default
          persistent_disk_type: small
          networks: [{name: default}]
          \(extraEnv)
          jobs:
          - name: greeter
            release: dummy
            properties: {who: operator, secret: ((greeter-secret))}
        - name: keyholder
          instances: 1
          azs: [z1]
          vm_type: small
          stemcell: default
          networks: [{name: default}]
          jobs:
          - name: greeter
            release: dummy
            properties: {who: keyholder, secret: "\(keyholderSecret)"}
        variables:
        - name: greeter-secret
          type: password
        - name: greeter-ca
          type: certificate
          options: {is_ca: true, common_name: greeter-ca}
        - name: greeter-tls
          type: certificate
          options: {ca: greeter-ca, common_name: greeter.internal}

        """
    }

    /// The rendered `secret=` value of a VM's greeter config: the first line of it for a
    /// password, a line from the middle of a private key.
    static func secretNeedle(_ bed: Bed, vm: String) async throws -> String {
        let config = try await bed.inVM(vm, "cat /var/vcap/jobs/greeter/config/greeter.conf")
        let lines = config.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("secret=") })
        if lines[start].contains("BEGIN") {
            return lines[start + 3]  // a full 64-character line of the key's base64
        }
        return String(lines[start].dropFirst("secret=".count))
    }

    /// Files under `root` holding `needle`, gzip streams decompressed (blobstore archives).
    static func hostFiles(containing needle: String, under root: String) throws -> [String] {
        let wanted = Data(needle.utf8)
        var hits: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = walker.nextObject() as? String {
            let path = root + "/" + relative
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            else { continue }
            if data.range(of: wanted) != nil {
                hits.append(path)
            } else if data.starts(with: [0x1f, 0x8b]), let plain = try? gunzip(path), plain.range(of: wanted) != nil {
                hits.append(path + " (gzip)")
            }
        }
        return hits
    }

    /// Files inside a VM holding `needle`, each with the file system it is on.
    static func vmFiles(containing needle: String, _ bed: Bed, vm: String) async throws -> [String] {
        let script =
            "grep -rlF -D skip -e '\(needle)' / --exclude-dir=proc --exclude-dir=sys 2>/dev/null | while read f; do echo \"$f $(stat -f -c %T \"$f\")\"; done"
        return try await bed.inVM(vm, script).split(separator: "\n").map(String.init)
    }

    @Test(
        "with use_tmpfs_config and templates over NATS, a generated password and private key are only in VM tmpfs; a rebooted VM gets them back without a recreate; oversized templates touch no VM"
    )
    func secretsOnlyInMemory() async throws {
        try await Bed.with(directorConfig: "enable_nats_delivered_templates: true\nnats: {port: 0, max_payload: 65536}")
        { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            let deploy = try await bed.deploy(Self.manifest(tmpfs: true))
            #expect(deploy.status == 0, "\(deploy.stdout)")
            let vms = try await bed.vmCIDs()
            let greeterVM = try #require(vms.first { $0.key.hasPrefix("greeter/") }?.value)
            let keyholderVM = try #require(vms.first { $0.key.hasPrefix("keyholder/") }?.value)
            let password = try await Self.secretNeedle(bed, vm: greeterVM)
            let keyLine = try await Self.secretNeedle(bed, vm: keyholderVM)
            #expect(password.count == 20 && keyLine.count == 64, "\(password.count) \(keyLine.count)")

            // Nowhere on the host: director state (database, blobstore, tasks, logs), the CPI's
            // VM directories and disk images.
            for needle in [password, keyLine] {
                #expect(try Self.hostFiles(containing: needle, under: bed.scratch.url.path) == [])
            }
            // On the VMs, only on tmpfs.
            for (vm, needle) in [(greeterVM, password), (keyholderVM, keyLine)] {
                let found = try await Self.vmFiles(containing: needle, bed, vm: vm)
                #expect(!found.isEmpty, "the VM's job has it")
                #expect(found.allSatisfy { $0.hasSuffix(" tmpfs") }, "\(found)")
            }

            // A reboot through the CPI empties the tmpfs; the agent says so in its first
            // heartbeat and the director delivers the templates again: same VM, running.
            let before = try await bed.instances().first { ($0["instance"]?.stringValue ?? "").hasPrefix("greeter/") }
            let rebooted = ContinuousClock.now
            try await Self.reboot(bed, vm: greeterVM)
            var state = ""
            for _ in 0..<120 {
                state =
                    (try await bed.instances().first { ($0["instance"]?.stringValue ?? "").hasPrefix("greeter/") }?[
                        "process_state"]?.stringValue) ?? ""
                if state == "running" { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            let back = ContinuousClock.now - rebooted
            #expect(state == "running", "greeter after reboot: \(state)")
            print("rebooted tmpfs VM running again after \(back)")
            #expect(try await bed.vmCIDs()[before?["instance"]?.stringValue ?? ""] == greeterVM, "not recreated")
            #expect(try await Self.secretNeedle(bed, vm: greeterVM) == password)
            #expect(try await bed.inVM(greeterVM, "stat -f -c %T /var/vcap/store") != "tmpfs\n")
            // The restore is a task of its own, recorded as an event once it finished.
            var events = ""
            for _ in 0..<60 {
                events = try await bed.succeed(["events", "--json"])
                if events.contains("restore templates") { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(events.contains("restore templates"), "\(events.prefix(2000))")
            #expect(try Self.hostFiles(containing: password, under: bed.scratch.url.path) == [])

            // A stopped instance stays stopped through a reboot: its templates come back, its
            // jobs do not start until `start`.
            try await bed.succeed(["-n", "-d", "greet", "stop", "greeter"])
            try await Self.reboot(bed, vm: greeterVM)
            var restores = 0
            for _ in 0..<60 {
                restores =
                    try await bed.succeed(["events", "--json"]).components(separatedBy: "\"restore templates\"").count
                    - 1
                if restores >= 2 { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(restores >= 2, "a second restore after the second reboot")
            let stopped = try await bed.instances().first { ($0["instance"]?.stringValue ?? "").hasPrefix("greeter/") }
            #expect(stopped?["process_state"] == "stopped", "\(String(describing: stopped))")
            try await bed.succeed(["-n", "-d", "greet", "start", "greeter"])
            #expect(
                try await bed.instances().first { ($0["instance"]?.stringValue ?? "").hasPrefix("greeter/") }?[
                    "process_state"] == "running")
            #expect(try await Self.secretNeedle(bed, vm: greeterVM) == password)

            // Too big for the job directory tmpfs, and too big for NATS: refused up front.
            let vmsBefore = try await bed.vmCIDs()
            let small = try await bed.deploy(
                Self.manifest(tmpfs: true, extraEnv: "env: {bosh: {job_dir: {tmpfs_size: 4k}}}"))
            #expect(small.status == 1)
            #expect(
                small.stdout.contains(
                    "more than env.bosh.job_dir.tmpfs_size 4k; raise env.bosh.job_dir.tmpfs_size of instance group 'greeter'"
                ), "\(small.stdout)")
            let noise = (0..<100_000).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! }
            let big = try await bed.deploy(Self.manifest(tmpfs: true, keyholderSecret: String(noise)))
            #expect(big.status == 1)
            #expect(
                big.stdout.contains(
                    "upload_blob message, more than NATS max_payload 64.0 KiB; raise nats.max_payload_mb"),
                "\(big.stdout)")
            #expect(try await bed.vmCIDs() == vmsBefore)
            for output in [small.stdout, big.stdout] { #expect(!output.contains("Updating instance"), "\(output)") }
        }
    }

    @Test(
        "without tmpfs and with the blobstore, the password is where BOSH keeps it: the director's blobstore and the VM's ephemeral disk"
    )
    func secretsOnDiskWithoutTmpfs() async throws {
        try await Bed.with { bed in
            try await DeployTests.prepare(bed)
            try await bed.succeed(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
            let deploy = try await bed.deploy(Self.manifest(tmpfs: false))
            #expect(deploy.status == 0, "\(deploy.stdout)")
            let greeterVM = try #require(try await bed.vmCIDs().first { $0.key.hasPrefix("greeter/") }?.value)
            let password = try await Self.secretNeedle(bed, vm: greeterVM)
            let found = try Self.hostFiles(containing: password, under: bed.scratch.url.path)
            #expect(found.contains { $0.contains("/state/blobstore/") && $0.hasSuffix("(gzip)") }, "\(found)")
            #expect(found.contains { $0.contains("/cpi/vms/\(greeterVM)/vcap/data/jobs/greeter/") }, "\(found)")
            #expect(
                !found.contains { $0.contains("director.sqlite") || $0.contains("/tasks/") },
                "never in the database or task logs: \(found)")

            // Rotation: a new CA, the certificate it signs issued again, the password kept;
            // rolled out by a deploy, ids changed for exactly those two.
            let before = try await Self.variableIDs(bed)
            #expect(
                before.keys.sorted() == [
                    "/bosun/greet/greeter-ca", "/bosun/greet/greeter-secret", "/bosun/greet/greeter-tls",
                ], "\(before)")
            let keyholderVM = try #require(try await bed.vmCIDs().first { $0.key.hasPrefix("keyholder/") }?.value)
            let oldKey = try await Self.secretNeedle(bed, vm: keyholderVM)
            let rotated = try await bed.bosun(["-n", "-d", "greet", "regenerate-variable", "greeter-ca"])
            #expect(rotated.status == 0, "\(rotated.stdout)")
            #expect(rotated.stdout.contains("Updating instance keyholder"), "\(rotated.stdout)")
            let after = try await Self.variableIDs(bed)
            #expect(after["/bosun/greet/greeter-ca"] != before["/bosun/greet/greeter-ca"])
            #expect(after["/bosun/greet/greeter-tls"] != before["/bosun/greet/greeter-tls"])
            #expect(after["/bosun/greet/greeter-secret"] == before["/bosun/greet/greeter-secret"])
            #expect(try await Self.secretNeedle(bed, vm: keyholderVM) != oldKey)
            #expect(try await Self.secretNeedle(bed, vm: greeterVM) == password)
            let unknown = try await bed.bosun(["-n", "-d", "greet", "regenerate-variable", "nope"])
            #expect(
                unknown.status == 1 && unknown.stderr.contains("generates no variable named 'nope'"),
                "\(unknown.stdout) \(unknown.stderr)")

            // converge: other options, a new value; no-overwrite would have kept it.
            let longer = Self.manifest(tmpfs: false).replacingOccurrences(
                of: "- name: greeter-secret\n  type: password\n",
                with: "- name: greeter-secret\n  type: password\n  update_mode: converge\n  options: {length: 32}\n")
            let converged = try await bed.deploy(longer)
            #expect(converged.status == 0, "\(converged.stdout)")
            let newPassword = try await Self.secretNeedle(bed, vm: greeterVM)
            #expect(newPassword.count == 32 && newPassword != password)
            #expect(!converged.stdout.contains(newPassword) && !converged.stdout.contains(password))

            // Credentials leave with what used them: the archives the rotation and the converge
            // replaced are gone from the director's state, and after delete-deployment none is
            // left at all (database, blobstore, task logs; gzip streams opened).
            let state = bed.scratch.url.path + "/state"
            #expect(try Self.hostFiles(containing: oldKey, under: state) == [], "the rotated key's archive")
            #expect(try Self.hostFiles(containing: password, under: state) == [], "the converged password's archive")
            #expect(
                try Self.hostFiles(containing: newPassword, under: state).contains { $0.hasSuffix("(gzip)") },
                "the live archive")
            try await bed.succeed(["-n", "-d", "greet", "delete-deployment"])
            for needle in [oldKey, password, newPassword] {
                #expect(try Self.hostFiles(containing: needle, under: state) == [])
            }
        }
    }

    /// `reboot_vm` through the local CPI, as the director would call it.
    static func reboot(_ bed: Bed, vm: String) async throws {
        let request = #"{"method":"reboot_vm","arguments":["\#(vm)"],"context":{"director_uuid":"test"}}"#
        let reboot = try await BosunBinary.runProgram(
            "/bin/sh",
            [
                "-c",
                "echo '\(request)' | \(BuiltProduct.path("bosun-local-cpi")) -configPath \(bed.scratch.url.path)/local-cpi.yml",
            ],
            in: bed.scratch.url)
        #expect(reboot.status == 0 && reboot.stdout.contains("\"error\":null"), "\(reboot.stdout) \(reboot.stderr)")
    }

    /// `bosun variables`: name → id.
    static func variableIDs(_ bed: Bed) async throws -> [String: String] {
        let output = try await bed.succeed(["-d", "greet", "variables", "--json"])
        let rows =
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(output.utf8))["Tables"]?.arrayValue?.first?[
                "Rows"]?.arrayValue ?? []
        return Dictionary(
            rows.map { ($0["name"]?.stringValue ?? "", $0["id"]?.stringValue ?? "") },
            uniquingKeysWith: { first, _ in first })
    }
}
