import Blobstore
import BosunCore
import Director
import Foundation
import TestSupport
import Testing

/// A task in two steps with a result, for following.
struct TwoStepJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        for index in 1...2 {
            try await context.events.step(
                stage: "Preparing deployment", task: "step \(index)", tags: ["web"], index: index, total: 2
            ) {}
        }
        try context.output.append(.result, "{\"vm_cid\":\"vm-1\"}\n")
        return "/deployments/shop"
    }
}

struct BrokenJob: TaskJob {
    func run(_ context: TaskContext) async throws -> String? {
        try await context.events.step(stage: "Compiling packages", task: "ruby/1.0") {
            throw DirectorError(.badRequest, code: 1, "gcc exited 2")
        }
    }
}

/// The `bosun` binary against a director running in this test process.
@Suite("bosun director commands", .serialized)
struct DirectorCommandsTests {
    static let jobs: [String: any TaskJob] = ["update_deployment": TwoStepJob(), "update_release": BrokenJob()]

    /// Runs `bosun` with the director's URL, CA and admin credentials in BOSH_* variables.
    static func bosun(
        _ arguments: [String], _ director: RunningDirector, _ scratch: ScratchDirectory, credentials: Bool = true
    ) async throws -> BosunBinary.Result {
        var environment = [
            "BOSH_ENVIRONMENT": director.url, "BOSH_CA_CERT": director.caPEM,
            "BOSUN_CONFIG": scratch.url.path + "/cli-config",
        ]
        if credentials {
            environment["BOSH_CLIENT"] = "admin"
            environment["BOSH_CLIENT_SECRET"] = director.adminPassword
        }
        return try await BosunBinary.runAsync(arguments, environment: environment, in: scratch.url)
    }

    static func jsonRows(_ result: BosunBinary.Result) throws -> [JSONValue] {
        let document = try JSONCoding.decoder.decode(JSONValue.self, from: Data(result.stdout.utf8))
        return document["Tables"]?.arrayValue?.first?["Rows"]?.arrayValue ?? []
    }

    @Test("env shows the director and whether the credentials work")
    func env() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            let result = try await Self.bosun(["env"], director, scratch)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("UUID      \(director.identity.uuid)"))
            #expect(result.stdout.contains("User      admin"))
            #expect(result.stdout.hasSuffix("Succeeded\n"))
            let anonymous = try await Self.bosun(["env", "--json"], director, scratch, credentials: false)
            #expect(try Self.jsonRows(anonymous).first?["user"] == "(not logged in)")
            let untrusted = try await BosunBinary.runAsync(
                ["env"], environment: ["BOSH_ENVIRONMENT": director.url], in: scratch.url)
            #expect(untrusted.status == 1)
            #expect(untrusted.stderr.contains("Exit code 1"))
        }
    }

    @Test("alias-env and login remember the director; logout forgets the credentials")
    func aliasAndLogin() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            let environment = ["BOSUN_CONFIG": scratch.url.path + "/cli-config"]
            let alias = try await BosunBinary.runAsync(
                ["alias-env", "lab", "-e", director.url, "--ca-cert", director.caPEM], environment: environment,
                in: scratch.url)
            #expect(alias.status == 0, "\(alias.stderr)")
            let wrong = try await BosunBinary.runAsync(
                ["login", "-e", "lab", "--client", "admin", "--client-secret", "nope"], environment: environment,
                in: scratch.url)
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("Invalid credentials"))
            let login = try await BosunBinary.runAsync(
                ["login", "-e", "lab", "--client", "admin", "--client-secret", director.adminPassword],
                environment: environment, in: scratch.url)
            #expect(login.status == 0, "\(login.stderr)")
            let mode =
                try FileManager.default.attributesOfItem(atPath: scratch.url.path + "/cli-config")[.posixPermissions]
                as? Int
            #expect(mode == 0o600)
            let locks = try await BosunBinary.runAsync(
                ["-e", "lab", "locks"], environment: environment, in: scratch.url)
            #expect(locks.status == 0, "\(locks.stderr)")
            #expect(locks.stdout.contains("as client 'admin'"))
            _ = try await BosunBinary.runAsync(["logout", "-e", "lab"], environment: environment, in: scratch.url)
            let after = try await BosunBinary.runAsync(
                ["-e", "lab", "locks"], environment: environment, in: scratch.url)
            #expect(after.status == 1)
        }
    }

    @Test("update-cloud-config shows the diff and stores it; cloud-config prints it; a bad one changes nothing")
    func cloudConfig() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            let file = try scratch.write(
                "cc.yml",
                """
                azs: [{name: z1}]
                vm_types: [{name: small}]
                networks: [{name: default, type: manual, subnets: [{range: 10.244.0.0/24, gateway: 10.244.0.1, az: z1}]}]
                compilation: {workers: 1, network: default, vm_type: small, az: z1}

                """)
            let update = try await Self.bosun(["-n", "update-cloud-config", file], director, scratch)
            #expect(update.status == 0, "\(update.stderr)")
            #expect(update.stdout.contains("+ azs: [{name: z1}]"))
            let shown = try await Self.bosun(["cloud-config"], director, scratch)
            #expect(shown.stdout.contains("vm_types: [{name: small}]\n"))
            let bad = try scratch.write("bad.yml", "azs: [{name: z1}]\nvm_types: [{}]\n")
            let refused = try await Self.bosun(["-n", "update-cloud-config", bad], director, scratch)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("vm_types[0]"), "\(refused.stderr)")
            let configs = try Self.jsonRows(try await Self.bosun(["configs", "--json"], director, scratch))
            #expect(configs.map { $0["id"] } == ["1*"])
            #expect(configs.first?["type"] == "cloud" && configs.first?["name"] == "default")

            let dns = try scratch.write("dns.yml", "addons: []\n")
            #expect(
                try await Self.bosun(
                    ["-n", "update-config", "--type", "runtime", "--name", "dns", dns], director, scratch
                ).status == 0)
            let shownConfig = try await Self.bosun(
                ["config", "--type", "runtime", "--name", "dns", "--json"], director, scratch)
            #expect(try Self.jsonRows(shownConfig).first?["content"] == "addons: []\n")
            #expect(
                try await Self.bosun(["-n", "delete-config", "--type", "runtime", "--name", "dns"], director, scratch)
                    .status == 0)
            #expect(
                try Self.jsonRows(try await Self.bosun(["configs", "--type", "runtime", "--json"], director, scratch))
                    .isEmpty)
            #expect(try await Self.bosun(["no-such-command"], director, scratch).status != 0)
        }
    }

    @Test("task follows the event log as bosh renders it; a failed task exits 1; tasks, --result, events")
    func tasks() async throws {
        try await withDirector(jobs: Self.jobs) { director in
            let scratch = try ScratchDirectory()
            let done = try await director.tasks.enqueue(
                type: "update_deployment", description: "create deployment", user: "admin", deployment: "shop")
            let followed = try await Self.bosun(["task", "\(done.id!)"], director, scratch)
            #expect(followed.status == 0, "\(followed.stderr)")
            let pattern = #/Task \d+ \| \d\d:\d\d:\d\d \| Preparing deployment web: step 1 \(00:00:0\d\)/#
            #expect(followed.stdout.contains(pattern), "\(followed.stdout)")
            #expect(followed.stdout.contains("Task \(done.id!) done"))
            let result = try await Self.bosun(["task", "\(done.id!)", "--result"], director, scratch)
            #expect(result.stdout.contains("{\"vm_cid\":\"vm-1\"}"))

            let broken = try await director.tasks.enqueue(
                type: "update_release", description: "create release", user: "admin")
            let failed = try await Self.bosun(["task", "\(broken.id!)"], director, scratch)
            #expect(failed.status == 1)
            #expect(failed.stdout.contains("Compiling packages: ruby/1.0"))
            #expect(failed.stdout.contains("L Error: gcc exited 2"))
            #expect(failed.stderr.contains("Expected task '\(broken.id!)' to succeed but state is 'error'"))

            let recent = try Self.jsonRows(try await Self.bosun(["tasks", "-r", "--json"], director, scratch))
            #expect(recent.map { $0["id"] } == [.string("\(broken.id!)"), .string("\(done.id!)")])
            #expect(
                recent.last?["state"] == "done" && recent.last?["deployment"] == "shop"
                    && recent.last?["result"] == "/deployments/shop")
            let running = try Self.jsonRows(try await Self.bosun(["tasks", "--json"], director, scratch))
            #expect(running.isEmpty)
            let cancelDone = try await Self.bosun(["cancel-task", "\(done.id!)"], director, scratch)
            #expect(cancelDone.status == 1)
            #expect(cancelDone.stderr.contains("invalid state (done)"))
        }
    }
}

extension DirectorCommandsTests {
    @Test(
        "upload-stemcell goes through the real local CPI; stemcells lists it; a second upload is skipped; delete-stemcell removes it"
    )
    func stemcells() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            let build = try await BosunBinary.runProgram(
                BuiltProduct.path("bosun-local-cpi"), ["build-stemcell", scratch.url.path, "42"], in: scratch.url)
            #expect(build.status == 0, "\(build.stderr)")
            let tarball = try #require(
                try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).first { $0.hasSuffix(".tgz") })
            let upload = try await Self.bosun(
                ["-n", "upload-stemcell", scratch.url.path + "/" + tarball], director, scratch)
            #expect(upload.status == 0, "\(upload.stdout)\n\(upload.stderr)")
            #expect(upload.stdout.contains("Update stemcell: Uploading stemcell"))
            let listed = try Self.jsonRows(try await Self.bosun(["stemcells", "--json"], director, scratch))
            #expect(listed.count == 1)
            let name = try #require(listed.first?["name"]?.stringValue)
            #expect(listed.first?["version"] == "42")
            #expect(listed.first?["cid"]?.stringValue?.hasPrefix("sc-") == true)
            let cid = listed.first!["cid"]!.stringValue!
            #expect(
                FileManager.default.fileExists(
                    atPath: director.configuration.stateDirectory + "/local-cpi/stemcells/\(cid)"))

            let again = try await Self.bosun(
                ["-n", "upload-stemcell", scratch.url.path + "/" + tarball], director, scratch)
            #expect(again.stdout.contains("Stemcell '\(name)/42' already exists."))
            #expect(try await Self.bosun(["-n", "delete-stemcell", "\(name)/42"], director, scratch).status == 0)
            #expect(try Self.jsonRows(try await Self.bosun(["stemcells", "--json"], director, scratch)).isEmpty)
            #expect(
                !FileManager.default.fileExists(
                    atPath: director.configuration.stateDirectory + "/local-cpi/stemcells/\(cid)"))
            let events = try Self.jsonRows(
                try await Self.bosun(["events", "--object-type", "stemcell", "--json"], director, scratch))
            #expect(events.map { $0["action"] } == ["delete", "create"])
            let leftovers =
                (try? FileManager.default.contentsOfDirectory(atPath: director.configuration.uploadsDirectory)) ?? []
            #expect(leftovers.isEmpty)
        }
    }
}

extension DirectorCommandsTests {
    /// The release the official bosh CLI built, kept in the repository's test fixtures.
    /// The go-yaml corpus's "billion laughs" document.
    static var aliasBomb: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BosunCoreTests/Fixtures/yaml-corpus/alias-bomb.yml").path
    }

    static var fixtureRelease: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/releases/dummy-0+dev.1.tgz").path
    }

    /// The fixture release unpacked into `scratch/<name>`, changed by `edit`, packed again as
    /// `scratch/<name>.tgz`; returns that path.
    static func fixtureRepacked(
        as name: String, in scratch: ScratchDirectory, _ edit: (String) throws -> Void
    ) async throws -> String {
        let work = scratch.url.path + "/" + name
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        _ = try await BosunBinary.runProgram("/bin/tar", ["-xzf", fixtureRelease, "-C", work], in: scratch.url)
        try edit(work)
        let tarball = scratch.url.path + "/" + name + ".tgz"
        _ = try await BosunBinary.runProgram("/bin/tar", ["-czf", tarball, "-C", work, "."], in: scratch.url)
        return tarball
    }

    @Test(
        "a manifest posted as an alias bomb or with invalid UTF-8 is refused naming why, and the director keeps serving"
    )
    func hostileManifests() async throws {
        try await withDirector { director in
            let bomb = try await DirectorHTTPClientForCLI.postYAML(
                "/deployments", try Data(contentsOf: URL(fileURLWithPath: Self.aliasBomb)), director)
            #expect(bomb.status == 400 && bomb.body.contains("document contains excessive aliasing"), "\(bomb)")
            let latin1 = try await DirectorHTTPClientForCLI.postYAML(
                "/deployments", Data("name: caf".utf8) + [0xE9], director)
            #expect(
                latin1.status == 400 && latin1.body.contains("UTF-8 octet")
                    && latin1.body.contains("line 1, column 10"), "\(latin1)")
            let deep = try await DirectorHTTPClientForCLI.postYAML(
                "/deployments", Data(("name: deep\nx: " + String(repeating: "[", count: 5000)).utf8), director)
            #expect(deep.status == 400 && deep.body.contains("1000"), "\(deep)")
            #expect(try await DirectorHTTPClientForCLI.get("/deployments", director) == [])
        }
    }

    @Test(
        "upload-release stores the official CLI's tarball (sha256 digests) with its jobs and packages; bad tarballs store nothing"
    )
    func releases() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            let upload = try await Self.bosun(["-n", "upload-release", Self.fixtureRelease], director, scratch)
            #expect(upload.status == 0, "\(upload.stdout)\n\(upload.stderr)")
            #expect(upload.stdout.contains("Creating new packages and jobs: dummy/0+dev.1"))
            let releases = try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch))
            #expect(releases == [["name": "dummy", "version": "0+dev.1", "commit_hash": "0dfd303"]])
            let api = try await DirectorHTTPClientForCLI.get("/releases", director)
            #expect(
                api.arrayValue?.first?["release_versions"]?.arrayValue?.first?["job_names"] == ["checker", "greeter"])
            // Four blobs (two jobs, two packages) in the director's blobstore.
            let blobs =
                FileManager.default.enumerator(atPath: director.configuration.blobstoreDirectory)?.allObjects
                .compactMap { $0 as? String }.filter { $0.contains("/") } ?? []
            #expect(blobs.count == 4)
            let again = try await Self.bosun(["-n", "upload-release", Self.fixtureRelease], director, scratch)
            #expect(again.stdout.contains("Release 'dummy/0+dev.1' already exists."))
            // Posted again as a pipeline (or the official CLI's second upload) does, past the
            // CLI's check: the same commit succeeds; the same version of another commit is
            // refused with BOSH's words.
            let sameCommit = try await DirectorHTTPClientForCLI.postRelease(Self.fixtureRelease, director)
            let sameTask = try await Self.bosun(["task", sameCommit], director, scratch)
            #expect(sameTask.status == 0, "\(sameTask.stdout)")
            let otherCommit = try await Self.fixtureRepacked(as: "other-commit", in: scratch) { work in
                let releaseMF = try String(contentsOfFile: work + "/release.MF", encoding: .utf8)
                try releaseMF.replacingOccurrences(of: "commit_hash: 0dfd303", with: "commit_hash: 1234abc")
                    .write(toFile: work + "/release.MF", atomically: true, encoding: .utf8)
            }
            let otherTask = try await Self.bosun(
                ["task", try await DirectorHTTPClientForCLI.postRelease(otherCommit, director)], director, scratch)
            #expect(otherTask.status == 1)
            #expect(
                otherTask.stdout.contains(
                    "release 'dummy/0+dev.1' has already been uploaded with commit_hash as '0dfd303' and uncommitted_changes as 'false'"
                ),
                "\(otherTask.stdout)")
            let inspected = try await Self.bosun(["inspect-release", "dummy/0+dev.1", "--json"], director, scratch)
            let tables =
                try JSONCoding.decoder.decode(JSONValue.self, from: Data(inspected.stdout.utf8))["Tables"]?.arrayValue
                ?? []
            let jobRows = tables.first?["Rows"]?.arrayValue ?? []
            #expect(
                jobRows.map { $0["job"]?.stringValue?.split(separator: "/").first.map(String.init) } == [
                    "checker", "greeter",
                ])
            #expect(jobRows.last?["links_provided"] == "greeter")
            #expect(
                jobRows.last?["digest"] == "sha256:845b3054139ef9bfcb8ff6efefb20ae915698fc59bc9314fd767537649741813")
            #expect(tables.last?["Rows"]?.arrayValue?.count == 2)

            // A tarball whose package does not match its digest: refused, nothing stored.
            let tampered = try await Self.fixtureRepacked(as: "tampered", in: scratch) { work in
                let manifest = try String(contentsOfFile: work + "/release.MF", encoding: .utf8)
                try manifest.replacingOccurrences(of: "version: 0+dev.1", with: "version: 0+dev.2")
                    .write(toFile: work + "/release.MF", atomically: true, encoding: .utf8)
                try Data("not the package".utf8).write(to: URL(fileURLWithPath: work + "/packages/libgreet.tgz"))
            }
            let refused = try await Self.bosun(["-n", "upload-release", tampered], director, scratch)
            #expect(refused.status == 1)
            #expect(refused.stdout.contains("packages/libgreet.tgz has sha256"), "\(refused.stdout)")
            let after = try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch))
            #expect(after.count == 1)
            let blobsAfter =
                FileManager.default.enumerator(atPath: director.configuration.blobstoreDirectory)?.allObjects
                .compactMap { $0 as? String }.filter { $0.contains("/") } ?? []
            #expect(blobsAfter.count == 4)

            let deleted = try await Self.bosun(["-n", "delete-release", "dummy/0+dev.1"], director, scratch)
            #expect(deleted.status == 0, "\(deleted.stdout)\n\(deleted.stderr)")
            #expect(try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch)).isEmpty)
            let blobsGone =
                FileManager.default.enumerator(atPath: director.configuration.blobstoreDirectory)?.allObjects
                .compactMap { $0 as? String }.filter { $0.contains("/") } ?? []
            #expect(blobsGone.isEmpty)
            let missing = try await Self.bosun(["-n", "delete-release", "dummy"], director, scratch)
            #expect(missing.status == 1)
            #expect(
                missing.stdout.contains("Release 'dummy' doesn't exist") || missing.stderr.contains("doesn't exist"))
        }
    }

    @Test(
        "upload-release --fix replaces a corrupted blob of a version the director has; --rebase uploads changed content as the next dev version and refuses unchanged content"
    )
    func fixAndRebase() async throws {
        try await withDirector { director in
            let scratch = try ScratchDirectory()
            #expect(try await Self.bosun(["-n", "upload-release", Self.fixtureRelease], director, scratch).status == 0)
            func greeterJob() async throws -> JSONValue? {
                let inspected = try await Self.bosun(["inspect-release", "dummy/0+dev.1", "--json"], director, scratch)
                let tables =
                    try JSONCoding.decoder.decode(JSONValue.self, from: Data(inspected.stdout.utf8))["Tables"]?
                    .arrayValue ?? []
                return tables.first?["Rows"]?.arrayValue?.first {
                    $0["job"]?.stringValue?.hasPrefix("greeter/") == true
                }
            }
            let before = try #require(try await greeterJob()?["blobstore_id"]?.stringValue)
            let corrupted = director.configuration.blobstoreDirectory + "/" + BlobLayout.relativePath(of: before)
            try Data("bit rot".utf8).write(to: URL(fileURLWithPath: corrupted))

            // Without --fix the version is skipped; with it, the uploaded blob takes the bad one's place.
            #expect(
                try await Self.bosun(["-n", "upload-release", Self.fixtureRelease], director, scratch).stdout.contains(
                    "already exists"))
            let fixed = try await Self.bosun(["-n", "upload-release", "--fix", Self.fixtureRelease], director, scratch)
            #expect(fixed.status == 0, "\(fixed.stdout)\n\(fixed.stderr)")
            let after = try #require(try await greeterJob()?["blobstore_id"]?.stringValue)
            #expect(after != before)
            #expect(!FileManager.default.fileExists(atPath: corrupted))
            let digest = try await BosunBinary.runProgram(
                "/usr/bin/sha256sum",
                [director.configuration.blobstoreDirectory + "/" + BlobLayout.relativePath(of: after)], in: scratch.url)
            #expect(
                digest.stdout.hasPrefix("845b3054139ef9bfcb8ff6efefb20ae915698fc59bc9314fd767537649741813"),
                "\(digest.stdout)")
            #expect(try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch)).count == 1)

            // --rebase: the same jobs and packages are refused; a changed job becomes 0+dev.2.
            let unchanged = try await Self.bosun(
                ["-n", "upload-release", "--rebase", Self.fixtureRelease], director, scratch)
            #expect(unchanged.status == 1)
            #expect(
                unchanged.stdout.contains("Rebase is attempted without any job or package changes"),
                "\(unchanged.stdout)")
            let source = scratch.url.path + "/dummy-src"
            try FileManager.default.copyItem(atPath: CreateReleaseTests.fixtures.path + "/dummy-src", toPath: source)
            _ = try await BosunBinary.runProgram("/bin/chmod", ["-R", "u+w", source], in: scratch.url)
            let template = source + "/jobs/checker/spec"
            try (try String(contentsOfFile: template, encoding: .utf8) + "\n# changed\n").write(
                toFile: template, atomically: true, encoding: .utf8)
            let built = try await BosunBinary.runAsync(
                ["create-release", "--dir", source, "--force", "--tarball", scratch.url.path + "/changed.tgz"],
                in: scratch.url)
            #expect(built.status == 0, "\(built.stdout)\(built.stderr)")
            let rebased = try await Self.bosun(
                ["-n", "upload-release", "--rebase", scratch.url.path + "/changed.tgz"], director, scratch)
            #expect(rebased.status == 0, "\(rebased.stdout)\n\(rebased.stderr)")
            let versions = try Self.jsonRows(try await Self.bosun(["releases", "--json"], director, scratch)).compactMap
            { $0["version"]?.stringValue }
            #expect(Set(versions) == ["0+dev.1", "0+dev.2"], "\(versions)")
        }
    }
}

/// A direct API read for what the CLI does not show.
enum DirectorHTTPClientForCLI {
    /// `POST path` with `body` as `text/yaml`; the HTTP status and the reply.
    static func postYAML(
        _ path: String, _ body: Data, _ director: RunningDirector
    ) async throws -> (status: Int, body: String) {
        let scratch = try ScratchDirectory()
        let file = scratch.url.appendingPathComponent("body.yml")
        try body.write(to: file)
        let result = try await BosunBinary.runProgram(
            "/usr/bin/curl",
            [
                "-s", "-w", "\\n%{http_code}", "--cacert", try scratch.write("ca.crt", director.caPEM), "-u",
                "admin:\(director.adminPassword)",
                "-H", "Content-Type: text/yaml", "--data-binary", "@" + file.path, director.url + path,
            ],
            in: scratch.url)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// `POST /releases` with a tarball, as the official CLI uploads one; returns the task id.
    static func postRelease(_ tarball: String, _ director: RunningDirector) async throws -> String {
        let scratch = try ScratchDirectory()
        let result = try await BosunBinary.runProgram(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{redirect_url}", "--cacert",
                try scratch.write("ca.crt", director.caPEM), "-u", "admin:\(director.adminPassword)",
                "-H", "Content-Type: application/x-compressed", "--data-binary", "@" + tarball,
                director.url + "/releases",
            ],
            in: scratch.url)
        return String(result.stdout.split(separator: "/").last ?? "")
    }

    static func get(_ path: String, _ director: RunningDirector) async throws -> JSONValue {
        let scratch = try ScratchDirectory()
        let result = try await BosunBinary.runProgram(
            "/usr/bin/curl",
            [
                "-s", "--cacert", try scratch.write("ca.crt", director.caPEM), "-u", "admin:\(director.adminPassword)",
                director.url + path,
            ],
            in: scratch.url)
        return try JSONCoding.decoder.decode(JSONValue.self, from: Data(result.stdout.utf8))
    }
}
