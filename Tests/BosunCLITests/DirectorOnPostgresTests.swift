import BosunCore
import Foundation
import Testing
import TestSupport

/// The routes the CLI drives, against a director whose database is a real PostgreSQL server.
@Suite("bosun against a director on PostgreSQL", .serialized)
struct DirectorOnPostgresTests {
    @Test("configs, releases, stemcells, tasks, events and locks behave the same on PostgreSQL")
    func everyRouteGroup() async throws {
        try await withPostgres { url in
            try await withDirector(configYAML: "database: {url: \"\(url)\"}\n") { director in
                #expect(director.database.kind == .postgres)
                let scratch = try ScratchDirectory()
                func bosun(_ arguments: [String]) async throws -> BosunBinary.Result {
                    try await DirectorCommandsTests.bosun(arguments, director, scratch)
                }
                func rows(_ arguments: [String]) async throws -> [JSONValue] {
                    try DirectorCommandsTests.jsonRows(try await bosun(arguments + ["--json"]))
                }
                let cloudConfig = try scratch.write("cc.yml", """
                    azs: [{name: z1}]
                    vm_types: [{name: small}]
                    networks: [{name: default, type: manual, subnets: [{range: 10.244.0.0/24, gateway: 10.244.0.1, az: z1}]}]
                    compilation: {workers: 1, network: default, vm_type: small, az: z1}

                    """)
                #expect(try await bosun(["-n", "update-cloud-config", cloudConfig]).status == 0)
                #expect(try await rows(["configs"]).map { $0["type"] } == ["cloud"])

                let upload = try await bosun(["-n", "upload-release", DirectorCommandsTests.fixtureRelease])
                #expect(upload.status == 0, "\(upload.stdout)\n\(upload.stderr)")
                #expect(try await rows(["releases"]).map { $0["version"] } == ["0+dev.1"])

                let build = try await BosunBinary.runProgram(
                    BuiltProduct.path("bosun-local-cpi"), ["build-stemcell", scratch.url.path, "3"], in: scratch.url)
                #expect(build.status == 0)
                let tarball = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).first { $0.hasSuffix(".tgz") })
                #expect(try await bosun(["-n", "upload-stemcell", scratch.url.path + "/" + tarball]).status == 0)
                #expect(try await rows(["stemcells"]).map { $0["version"] } == ["3"])

                #expect(try await bosun(["-n", "delete-release", "dummy"]).status == 0)
                #expect(try await rows(["releases"]).isEmpty)
                let tasks = try await rows(["tasks", "-r"])
                #expect(tasks.map { $0["state"] } == ["done", "done", "done"])
                #expect(try await rows(["locks"]).isEmpty)
                let events = try await rows(["events"])
                #expect(events.map { $0["object_type"] } == ["release", "stemcell", "release", "config"])
            }
        }
    }
}
