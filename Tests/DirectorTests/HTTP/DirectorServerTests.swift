import BosunCore
import Director
import Foundation
import TestSupport
import Testing

@Suite("Director API basics")
struct DirectorServerTests {
    @Test("GET /info answers anonymously, names the user of valid credentials only, and says auth is basic")
    func info() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            let anonymous = try await client.send(.GET, "/info", user: nil)
            #expect(anonymous.status == .ok)
            #expect(anonymous.json?["user"] == .null)
            #expect(anonymous.json?["uuid"] == .string(director.identity.uuid))
            #expect(anonymous.json?["user_authentication"] == ["type": "basic", "options": [:]])
            #expect(anonymous.json?["cpi"] == "bosun-local-cpi")
            #expect(try await client.send(.GET, "/info").json?["user"] == "admin")
            let wrong = try await client.send(.GET, "/info", password: "guess")
            #expect(wrong.status == .ok)
            #expect(wrong.json?["user"] == .null)
        }
    }

    @Test("/info names the CPI the director drives: cpi.name, the BOSH job of its executable, or the executable")
    func cpiName() {
        var configuration = DirectorConfiguration(stateDirectory: "/tmp/unused")
        #expect(configuration.cpiName == "bosun-local-cpi")
        configuration.cpiPath = "/var/vcap/jobs/docker_cpi/bin/cpi"
        #expect(configuration.cpiName == "docker_cpi")
        configuration.cpiPath = "/usr/local/bin/aws-cpi"
        #expect(configuration.cpiName == "aws-cpi")
        configuration.configuredCPIName = "aws_cpi"
        #expect(configuration.cpiName == "aws_cpi")
    }

    @Test("every other route needs credentials: 401 with BOSH's realm and message")
    func unauthorized() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            for password in [nil, "guess"] as [String?] {
                let reply = try await client.send(
                    .GET, "/tasks", user: password == nil ? nil : "admin", password: password)
                #expect(reply.status == .unauthorized)
                #expect(reply.headers["WWW-Authenticate"] == ["Basic realm=\"BOSH Director\""])
                #expect(reply.body == "Not authorized: '/tasks'\n")
            }
        }
    }

    @Test(
        "the first start makes a CA, an RSA certificate for its addresses and an admin password; later starts keep them"
    )
    func identityIsKept() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-director-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try await withDirector(stateDirectory: state) { director in
            #expect(director.identity.generatedAdminPassword != nil)
            return director.identity
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: state + "/admin-password")
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(
            try FileManager.default.attributesOfItem(atPath: state + "/certs/director.key")[.posixPermissions] as? Int
                == 0o600)
        let certificate = try String(contentsOfFile: state + "/certs/director.crt", encoding: .utf8)
        let text = try Self.openssl(["x509", "-noout", "-text"], input: certificate)
        #expect(text.contains("rsaEncryption") && text.contains("(2048 bit)"))
        #expect(text.contains("IP Address:127.0.0.1") && text.contains("DNS:localhost"))
        try await withDirector(stateDirectory: state) { director in
            #expect(director.identity.generatedAdminPassword == nil)
            #expect(director.identity.uuid == first.uuid)
            #expect(director.identity.caPEM == first.caPEM)
            #expect(director.identity.users == first.users)
            let info = try await DirectorHTTPClient(director: director).send(.GET, "/info")
            #expect(info.json?["user"] == "admin")
        }
    }

    @Test("users from config.yml replace the generated admin; a bad config names the key")
    func configuredUsers() async throws {
        try await withDirector(configYAML: "users: [{name: ops, password: s3cret-pass}]\nname: lab\n") { director in
            #expect(director.identity.users == ["ops": "s3cret-pass"])
            let info = try await DirectorHTTPClient(director: director).send(.GET, "/info", user: "ops")
            #expect(info.json?["user"] == "ops")
            #expect(info.json?["name"] == "lab")
            #expect(!FileManager.default.fileExists(atPath: director.configuration.stateDirectory + "/admin-password"))
        }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-director-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        try "port: eighty\n".write(toFile: state + "/config.yml", atomically: true, encoding: .utf8)
        #expect(throws: DirectorConfiguration.Invalid.self) { try DirectorConfiguration.load(stateDirectory: state) }
        do {
            _ = try DirectorConfiguration.load(stateDirectory: state)
        } catch {
            #expect("\(error)".contains("port must be a port number, found eighty"))
        }
    }

    static func openssl(_ arguments: [String], input: String) throws -> String {
        let process = Process()
        let stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }
}
