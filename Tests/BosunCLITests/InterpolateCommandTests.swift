import Foundation
import Testing

@testable import BosunCLI

/// `bosun interpolate` run as a process: what an operator sees on stdout, stderr and in the exit code.
@Suite struct InterpolateCommandTests {
    static let manifest = """
        name: ((name))
        instance_groups:
        - name: web
          instances: 1
          jobs:
          - name: greeter
            release: dummy
            properties:
              password: ((admin_password))
              tls: ((web_tls))
        variables:
        - name: admin_password
          type: password
        - name: ca
          type: certificate
          options: {is_ca: true, common_name: test-ca}
        - name: web_tls
          type: certificate
          options: {ca: ca, common_name: web}
        """

    @Test func printsTheInterpolatedManifestAndFillsTheStore() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", Self.manifest)
        try dir.write("ops.yml", "- {type: replace, path: /instance_groups/name=web/instances, value: ((count))}")
        let first = try BosunBinary.run(
            ["int", "m.yml", "-o", "ops.yml", "-v", "name=demo", "-v", "count=3", "--vars-store", "creds.yml"],
            in: dir.url)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("instance_groups:\n- instances: 3\n"))
        #expect(first.stdout.contains("name: demo\nvariables: []\n"))
        let attributes = try FileManager.default.attributesOfItem(
            atPath: dir.url.appendingPathComponent("creds.yml").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let store = try dir.read("creds.yml")
        #expect(store.hasPrefix("admin_password: "))
        // A second run reuses the stored values instead of generating new ones.
        let second = try BosunBinary.run(
            ["interpolate", "m.yml", "-o", "ops.yml", "-v", "name=demo", "-v", "count=3", "--vars-store", "creds.yml"],
            in: dir.url)
        #expect(second.stdout == first.stdout)
        #expect(try dir.read("creds.yml") == store)
    }

    @Test func pathPrintsAStringAsIs() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", Self.manifest)
        let result = try BosunBinary.run(
            ["int", "m.yml", "--vars-store", "creds.yml", "--path", "/web_tls/certificate"], in: dir.url)
        #expect(result.status == 1)  // the manifest has no such path…
        let fromStore = try BosunBinary.run(["int", "m.yml", "--vars-store", "s.yml"], in: dir.url)
        #expect(fromStore.status == 0)
        let cert = try BosunBinary.run(["int", "s.yml", "--path", "/web_tls/certificate"], in: dir.url)
        #expect(cert.stdout.hasPrefix("-----BEGIN CERTIFICATE-----\n"))  // …but the store does
    }

    /// A few hundred bytes that expand to billions of nodes, and bytes that are not UTF-8: refused
    /// as go-yaml refuses them, naming the limit or the position (time and memory: the yaml
    /// benchmark).
    @Test func anAliasBombAndInvalidUTF8AreRefusedWithWhere() throws {
        let dir = try ScratchDirectory()
        try FileManager.default.copyItem(
            atPath: DirectorCommandsTests.aliasBomb, toPath: dir.url.appendingPathComponent("bomb.yml").path)
        let bomb = try BosunBinary.run(["int", "bomb.yml"], in: dir.url)
        #expect(bomb.status == 1 && bomb.stdout.isEmpty)
        #expect(
            bomb.stderr.contains("Parsing manifest 'bomb.yml': document contains excessive aliasing"), "\(bomb.stderr)")
        let invalid = dir.url.appendingPathComponent("latin1.yml")
        try Data("name: caf".utf8 + [0xE9] + Data("\n".utf8)).write(to: invalid)
        let refused = try BosunBinary.run(["int", "latin1.yml"], in: dir.url)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("Reading manifest 'latin1.yml'") && refused.stderr.contains("UTF-8 octet"),
            "\(refused.stderr)")
        #expect(refused.stderr.contains("line 1, column 10"), "\(refused.stderr)")
    }

    @Test func aFailingOpsFileExitsOneNamesTheOpAndWritesNothing() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", Self.manifest)
        try dir.write(
            "bad.yml", "- {type: replace, path: /name, value: x}\n- {type: replace, path: /bar/foo, value: 1}")
        let result = try BosunBinary.run(["int", "m.yml", "-o", "bad.yml", "--vars-store", "creds.yml"], in: dir.url)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr.contains(
                "Error 'operation [1] in bad.yml failed': Expected to find a map key 'bar' for path '/bar' (found map keys: 'instance_groups', 'name', 'variables')"
            ))
        #expect(result.stderr.hasSuffix("Exit code 1\n"))
        #expect(!dir.exists("creds.yml"))
    }

    @Test func missingVariablesWithVarErrsExitOneAndWriteNothing() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", Self.manifest)
        let result = try BosunBinary.run(["int", "m.yml", "--var-errs", "--vars-store", "creds.yml"], in: dir.url)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Expected to find variables:\n    - name\n"))
        #expect(!dir.exists("creds.yml"))
    }

    @Test func invalidOpsFileIsReportedBeforeAnythingRuns() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", "a: 1")
        try dir.write("ops.yml", "- {type: replace, path: /a}")
        let result = try BosunBinary.run(["int", "m.yml", "-o", "ops.yml"], in: dir.url)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Replace operation [0] in 'ops.yml': Missing value (path '/a')"))
    }

    @Test func variableSourcesFollowBoshPrecedence() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", "a: ((a))\nb: ((b))\nc: ((c))\nd: ((d))\ne: ((e))")
        try dir.write("vars.yml", "a: from-file\nb: from-file\nc: from-file")
        try dir.write("c.txt", "from-var-file")
        let result = try BosunBinary.run(
            [
                "int", "m.yml", "-v", "a=from-flag", "-l", "vars.yml", "--var-file", "c=c.txt", "--vars-env", "MY",
                "-v", "e='8080'",
            ],
            environment: ["MY_b": "from-env", "MY_d": "[1, 2]"], in: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "a: from-flag\nb: from-file\nc: from-var-file\nd:\n- 1\n- 2\ne: \"8080\"\n")
    }

    @Test func globalFlagsMayComeBeforeTheCommand() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", "b: 2\na: 1")
        let result = try BosunBinary.run(["-n", "-d", "dep", "--json", "int", "m.yml"], in: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["Blocks"] as? [String] == ["a: 1\nb: 2\n"])
    }

    @Test func versionAndHelp() throws {
        let dir = try ScratchDirectory()
        let version = try BosunBinary.run(["--version"], in: dir.url)
        #expect(version.stdout.hasPrefix("0."))
        let help = try BosunBinary.run(["help", "interpolate"], in: dir.url)
        #expect(help.stdout.contains("--vars-store"))
    }

    @Test func readsTheManifestFromStandardInputWithDash() throws {
        let dir = try ScratchDirectory()
        try dir.write("m.yml", "x: ((y))")
        let process = Process()
        process.executableURL = BosunBinary.url
        process.arguments = ["int", "-", "-v", "y=z"]
        process.standardInput = try FileHandle(forReadingFrom: dir.url.appendingPathComponent("m.yml"))
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text == "x: z\n")
    }
}

@Suite struct GlobalOptionsTests {
    @Test func flagsWinOverBosunVariablesWhichWinOverBoshVariables() throws {
        let options = try GlobalOptions.parse(["-d", "flag"])
        let resolved = options.resolved(environment: [
            "BOSH_DEPLOYMENT": "bosh", "BOSUN_ENVIRONMENT": "bosun-env", "BOSH_ENVIRONMENT": "bosh-env",
            "BOSH_CLIENT": "admin", "BOSH_NON_INTERACTIVE": "true",
        ])
        #expect(resolved.deployment == "flag")
        #expect(resolved.environment == "bosun-env")
        #expect(resolved.client == "admin")
        #expect(resolved.nonInteractive)
    }

    @Test func globalFlagsBeforeTheCommandAreMovedAfterIt() {
        #expect(
            BosunCommand.movingGlobalOptionsAfterCommand(["-e", "lite", "-n", "int", "m.yml"])
                == ["int", "-e", "lite", "-n", "m.yml"])
        #expect(BosunCommand.movingGlobalOptionsAfterCommand(["--version"]) == ["--version"])
    }
}
