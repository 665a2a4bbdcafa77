import AgentProtocol
import Blobstore
import BosunCore
import Foundation
import TestSupport
import Testing

@testable import Director

/// `apply`, `prepare` and `compile_package` against the director's real HTTPS blobstore.
extension AgentProcessTests {
    typealias TarEntry = (path: String, text: String, mode: Int)

    /// Downloads a compiled package (digest-checked) and unpacks it into a new temporary directory.
    static func unpack(_ id: String, sha1: String, from store: any BlobstoreClient) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-compiled-\(UUID().uuidString)").path
        defer { unlink(directory + ".tgz") }
        try await store.get(id, digest: try BlobDigest(sha1), to: directory + ".tgz")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xzf", directory + ".tgz", "-C", directory]
        try tar.run()
        tar.waitUntilExit()
        return directory
    }

    /// A gzipped tarball of `entries` (top-level names as given), made with the system's tar.
    /// The first two bytes of a stored blob (`1f 8b` for gzip).
    static func firstBytes(of id: String, sha1: String, from store: any BlobstoreClient) async throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-blob-\(UUID().uuidString)").path
        defer { unlink(file) }
        try await store.get(id, digest: try BlobDigest(sha1), to: file)
        return Array((FileManager.default.contents(atPath: file) ?? Data()).prefix(2))
    }

    static func tarball(_ entries: [TarEntry], gzip: Bool = true) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-tar-\(UUID().uuidString)").path
        for entry in entries {
            let path = directory + "/" + entry.path
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try entry.text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, mode_t(entry.mode))
        }
        let tops = Set(entries.map { String($0.path.split(separator: "/")[0]) }).sorted()
        let output = directory + ".tgz"
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = [gzip ? "-czf" : "-cf", output, "-C", directory] + tops
        try tar.run()
        tar.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
        guard tar.terminationStatus == 0 else { throw AgentTestError("tar failed for \(tops)") }
        return output
    }

    /// Packs `entries`, stores them in the blobstore and returns the reference an apply spec uses.
    static func upload(_ entries: [TarEntry], name: String, version: String, gzip: Bool = true, to blobstore: any BlobstoreClient) async throws
        -> BlobReference
    {
        let file = try tarball(entries, gzip: gzip)
        defer { unlink(file) }
        let sha1 = try await BlobFiles.digest(ofFileAt: file, algorithm: .sha1)
        return BlobReference(name: name, version: version, sha1: sha1, blobstoreID: try await blobstore.put(fileAt: file))
    }

    static func spec(jobs: [String], packages: [BlobReference], archive: BlobReference) -> ApplySpec {
        ApplySpec(
            deployment: "shop", job: .init(name: "web", templates: jobs.map { BlobReference(name: $0, version: "v1", sha1: "unused", blobstoreID: "unused") }),
            index: 0, name: "web", id: "c0ffee00-1111-2222-3333-444455556666", az: "z1", networks: [:],
            packages: Dictionary(uniqueKeysWithValues: packages.map { ($0.name, $0) }), configurationHash: "hash-1",
            persistentDisk: 0, renderedTemplatesArchive: .init(blobstoreID: archive.blobstoreID, sha1: archive.sha1))
    }

    /// A monit-style job (`web`, a ctl script that uses the `greeter` package) and a bpm job
    /// (`worker`), as the director renders them.
    static func renderedJobs(vcap: String) -> [TarEntry] {
        [
            ("web/monit", """
                check process web
                  with pidfile \(vcap)/sys/run/web/web.pid
                  start program "\(vcap)/jobs/web/bin/web_ctl start"
                  stop program "\(vcap)/jobs/web/bin/web_ctl stop"
                  group vcap
                """, 0o644),
            ("web/bin/web_ctl", """
                #!/bin/sh
                case $1 in
                  start) \(vcap)/jobs/web/packages/greeter/bin/greet > \(vcap)/sys/log/web/greeting.log
                         sleep 1000 > /dev/null 2>&1 &
                         echo $! > \(vcap)/sys/run/web/web.pid ;;
                  stop) kill $(cat \(vcap)/sys/run/web/web.pid) ;;
                esac
                """, 0o644),
            ("worker/monit", "", 0o644),
            ("worker/config/bpm.yml", """
                processes:
                - name: sleeper
                  executable: /bin/sh
                  args: ["-c", "exec sleep 1000"]
                """, 0o644),
        ]
    }

    @Test func applyInstallsJobsAndPackagesFromTheBlobstoreAndStartRunsThem() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgent(blobstore: blobstore.settings) { client, _, vcap in
                let store = try blobstore.client()
                let greeter = try await Self.upload(
                    [("bin/greet", "#!/bin/sh\necho hello from greeter\n", 0o755)], name: "greeter", version: "1.0", to: store)
                let archive = try await Self.upload(Self.renderedJobs(vcap: vcap), name: "", version: "", to: store)
                let spec = Self.spec(jobs: ["web", "worker"], packages: [greeter], archive: archive)
                #expect(try await client.send(.apply(spec)) == "applied")

                let fm = FileManager.default
                let webTarget = try fm.destinationOfSymbolicLink(atPath: vcap + "/jobs/web")
                #expect(webTarget.hasPrefix(vcap + "/data/jobs/web/"))
                #expect(try fm.attributesOfItem(atPath: webTarget + "/bin/web_ctl")[.posixPermissions] as? Int == 0o750)
                #expect(try fm.attributesOfItem(atPath: webTarget + "/monit")[.posixPermissions] as? Int == 0o640)
                #expect(try fm.destinationOfSymbolicLink(atPath: webTarget + "/packages/greeter") == vcap + "/packages/greeter")
                #expect(try fm.destinationOfSymbolicLink(atPath: vcap + "/packages/greeter").hasPrefix(vcap + "/data/packages/greeter/"))
                #expect(try String(contentsOfFile: vcap + "/instance/deployment", encoding: .utf8) == "shop")
                let saved = try JSONCoding.decoder.decode(ApplySpec.self, from: Data(contentsOf: URL(fileURLWithPath: vcap + "/bosh/spec.json")))
                #expect(saved == spec)
                #expect(try fm.contentsOfDirectory(atPath: vcap + "/data/tmp").isEmpty)

                #expect(try await client.send(.start) == "started")
                let running = try await waitForJobState(client, "running")
                let names = Set(running["processes"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
                #expect(names == ["web", "sleeper"])
                #expect(try String(contentsOfFile: vcap + "/sys/log/web/greeting.log", encoding: .utf8) == "hello from greeter\n")
                #expect(try await client.send(.stop) == "stopped")

                // The next spec drops the worker job and the package: both are removed.
                let smaller = Self.spec(jobs: ["web"], packages: [], archive: archive)
                #expect(try await client.send(.apply(smaller)) == "applied")
                #expect(!fm.fileExists(atPath: vcap + "/jobs/worker"))
                #expect(!fm.fileExists(atPath: vcap + "/data/jobs/worker"))
                #expect(!fm.fileExists(atPath: vcap + "/packages/greeter"))
                #expect(!fm.fileExists(atPath: vcap + "/data/packages/greeter"))
                #expect(fm.fileExists(atPath: vcap + "/jobs/web/bin/web_ctl"))
            }
        }
    }

    @Test func templatesDeliveredOverNATSAreInstalledThenTheirBlobIsDeleted() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgent(blobstore: blobstore.settings) { client, _, vcap in
                let file = try Self.tarball(Self.renderedJobs(vcap: vcap))
                defer { unlink(file) }
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                let checksum = try await BlobFiles.digest(ofFileAt: file, algorithm: .sha1)
                let blobID = UUID().uuidString.lowercased()
                _ = try await client.send(.uploadBlob(UploadBlob(blobID: blobID, checksum: checksum, payload: data.base64EncodedString())))
                #expect(FileManager.default.fileExists(atPath: vcap + "/data/sensitive_blobs/" + blobID))

                // Not in the blobstore at all: the agent must find it among its sensitive blobs.
                let spec = Self.spec(
                    jobs: ["worker"], packages: [], archive: BlobReference(name: "", version: "", sha1: checksum, blobstoreID: blobID))
                #expect(try await client.send(.prepare(spec)) == "prepared")
                #expect(!FileManager.default.fileExists(atPath: vcap + "/jobs/worker"))
                #expect(try await client.send(.apply(spec)) == "applied")
                #expect(FileManager.default.fileExists(atPath: vcap + "/jobs/worker/config/bpm.yml"))
                #expect(!FileManager.default.fileExists(atPath: vcap + "/data/sensitive_blobs/" + blobID))
            }
        }
    }

    @Test func applyWithABadDigestFailsAndChangesNothing() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgent(blobstore: blobstore.settings) { client, _, vcap in
                let store = try blobstore.client()
                var greeter = try await Self.upload([("bin/greet", "#!/bin/sh\n", 0o755)], name: "greeter", version: "1.0", to: store)
                greeter.sha1 = String(repeating: "0", count: 40)
                let archive = try await Self.upload(Self.renderedJobs(vcap: vcap), name: "", version: "", to: store)
                await #expect {
                    _ = try await client.send(.apply(Self.spec(jobs: ["web"], packages: [greeter], archive: archive)))
                } throws: { error in "\(error)".contains("package greeter") && "\(error)".contains("expected 0000") }
                #expect(!FileManager.default.fileExists(atPath: vcap + "/jobs/web"))
                #expect(!FileManager.default.fileExists(atPath: vcap + "/bosh/spec.json"))
                #expect(try FileManager.default.contentsOfDirectory(atPath: vcap + "/data/packages").isEmpty)
            }
        }
    }

    @Test func compilePackageRunsThePackagingScriptWithItsDependenciesAndUploadsTheResult() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgent(blobstore: blobstore.settings) { client, _, vcap in
                let store = try blobstore.client()
                let library = try await Self.upload([("lib/greeting.txt", "hola\n", 0o644)], name: "libgreet", version: "0.9.1", to: store)
                let packaging = """
                    set -e
                    mkdir -p ${BOSH_INSTALL_TARGET}/bin
                    cp greet.sh ${BOSH_INSTALL_TARGET}/bin/greet
                    cp "$(dirname ${BOSH_INSTALL_TARGET})/libgreet/lib/greeting.txt" ${BOSH_INSTALL_TARGET}/greeting
                    echo "${BOSH_PACKAGE_NAME} ${BOSH_PACKAGE_VERSION} $(basename ${BOSH_COMPILE_TARGET}) $(pwd)" > ${BOSH_INSTALL_TARGET}/built-by
                    """
                let source = try await Self.upload(
                    [("packaging", packaging, 0o644), ("greet.sh", "#!/bin/sh\necho hi\n", 0o755)], name: "greeter", version: "", to: store)
                let request = CompilePackage(
                    blobstoreID: source.blobstoreID, sha1: source.sha1, name: "greeter", version: "1.2.1", dependencies: ["libgreet": library])
                let result = try await client.send(.compilePackage(request))
                let id = try #require(result["result"]?["blobstore_id"]?.stringValue)
                let sha1 = try #require(result["result"]?["sha1"]?.stringValue)

                let compiled = try await Self.unpack(id, sha1: sha1, from: store)
                defer { try? FileManager.default.removeItem(atPath: compiled) }
                #expect(try String(contentsOfFile: compiled + "/greeting", encoding: .utf8) == "hola\n")
                #expect(FileManager.default.isExecutableFile(atPath: compiled + "/bin/greet"))
                let builtBy = try String(contentsOfFile: compiled + "/built-by", encoding: .utf8)
                #expect(builtBy == "greeter 1.2.1 greeter \(vcap)/data/compile/greeter\n")
                #expect(!FileManager.default.fileExists(atPath: vcap + "/data/compile/greeter"))
                #expect(!FileManager.default.fileExists(atPath: vcap + "/packages/greeter"))

                // Gzipped source, gzipped result; an uncompressed source (`no_compression`) gives an
                // uncompressed one, as bosh-agent does.
                #expect(try await Self.firstBytes(of: id, sha1: sha1, from: store) == [0x1f, 0x8b])
                let plain = try await Self.upload(
                    [("packaging", "echo plain > ${BOSH_INSTALL_TARGET}/plain\n", 0o644)], name: "plain", version: "", gzip: false, to: store)
                let plainResult = try await client.send(.compilePackage(CompilePackage(
                    blobstoreID: plain.blobstoreID, sha1: plain.sha1, name: "plain", version: "1.0", dependencies: [:])))
                let plainID = try #require(plainResult["result"]?["blobstore_id"]?.stringValue)
                let plainSHA1 = try #require(plainResult["result"]?["sha1"]?.stringValue)
                #expect(try await Self.firstBytes(of: plainID, sha1: plainSHA1, from: store) != [0x1f, 0x8b])

                // A failing script: the error carries the end of its output.
                let broken = try await Self.upload(
                    [("packaging", "echo configuring\necho 'missing header zlib.h' >&2\nexit 3\n", 0o644)], name: "broken", version: "", to: store)
                await #expect {
                    _ = try await client.send(.compilePackage(CompilePackage(
                        blobstoreID: broken.blobstoreID, sha1: broken.sha1, name: "broken", version: "1.0", dependencies: [:])))
                } throws: { error in
                    "\(error)".contains("packaging exited with 3") && "\(error)".contains("missing header zlib.h")
                }
            }
        }
    }
}

extension AgentProcessTests {
    @Test func afterARebootJobsComeBackStayStoppedOrReportMissingTemplates() async throws {
        try await withBlobstoreServer { blobstore in
            try await withAgentProcess(blobstore: blobstore.settings) { client, director, vcap, agent in
                let store = try blobstore.client()
                let archive = try await Self.upload(Self.renderedJobs(vcap: vcap), name: "", version: "", to: store)
                let spec = Self.spec(jobs: ["worker"], packages: [], archive: archive)
                #expect(try await client.send(.apply(spec)) == "applied")
                #expect(try await client.send(.getState(full: false))["job_state"] == "stopped")

                // Rebooted with the jobs applied and never stopped: they start by themselves.
                try await agent.restart()
                _ = try await waitForJobState(client, "running")
                #expect(try await client.send(.stop) == "stopped")

                // Stopped on purpose: they stay stopped across a reboot.
                try await agent.restart()
                #expect(try await client.send(.getState(full: false))["job_state"] == "stopped")

                // A reboot that empties the tmpfs job directory: the agent still answers, says so
                // in get_state and heartbeats, refuses to start, and takes the templates again.
                try await agent.restart {
                    for entry in try FileManager.default.contentsOfDirectory(atPath: vcap + "/data/jobs") {
                        try FileManager.default.removeItem(atPath: vcap + "/data/jobs/" + entry)
                    }
                }
                #expect(try await client.send(.getState(full: false))["job_state"] == "templates_missing")
                let heartbeats = try await director.subscribe(to: AgentSubjects.heartbeat(agentID: Self.agentID))
                let beat = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try await collect(heartbeats, count: 1)[0].payload.readableBytesView))
                #expect(beat["job_state"] == "templates_missing")
                await #expect {
                    _ = try await client.send(.start)
                } throws: { error in "\(error)".contains("rendered templates of worker are missing") }
                #expect(try await client.send(.apply(spec)) == "applied")
                #expect(try await client.send(.start) == "started")
                _ = try await waitForJobState(client, "running")
                #expect(try await client.send(.stop) == "stopped")
            }
        }
    }
}
