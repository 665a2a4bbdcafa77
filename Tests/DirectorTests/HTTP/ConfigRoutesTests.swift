import BosunCore
import Director
import Foundation
import TestSupport
import Testing

@Suite("Director configs and events")
struct ConfigRoutesTests {
    static let cloudConfig = """
        azs: [{name: z1}]
        vm_types: [{name: small}]
        networks:
        - name: default
          type: manual
          subnets: [{range: 10.244.0.0/24, gateway: 10.244.0.1, az: z1}]
        compilation: {workers: 1, network: default, vm_type: small, az: z1}
        """

    static func postConfig(
        _ client: DirectorHTTPClient, type: String, name: String, content: String, expected: String? = nil
    ) async throws
        -> DirectorHTTPClient.Reply
    {
        var body: JSONValue = ["type": .string(type), "name": .string(name), "content": .string(content)]
        if let expected, case .object(var fields) = body {
            fields["expected_latest_id"] = .string(expected)
            body = .object(fields)
        }
        return try await client.send(
            .POST, "/configs", body: String(decoding: try JSONCoding.encoder.encode(body), as: UTF8.self),
            headers: [("Content-Type", "application/json")])
    }

    @Test("configs are versioned by type and name; identical content adds no version; stale expected ids get 412")
    func versions() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            let first = try await Self.postConfig(client, type: "cloud", name: "default", content: Self.cloudConfig)
            #expect(first.status == .created)
            let id = try #require(first.json?["id"]?.stringValue)
            #expect(first.json?["current"] == true)
            let same = try await Self.postConfig(client, type: "cloud", name: "default", content: Self.cloudConfig)
            #expect(same.json?["id"] == .string(id))
            let second = try await Self.postConfig(
                client, type: "cloud", name: "default", content: Self.cloudConfig + "\nvm_extensions: []\n")
            let secondID = try #require(second.json?["id"]?.stringValue)
            #expect(secondID != id)
            let stale = try await Self.postConfig(
                client, type: "cloud", name: "default", content: "azs: []\n", expected: id)
            #expect(stale.status == .preconditionFailed)
            #expect(stale.json == ["latest_id": .string(secondID), "expected_latest_id": .string(id)])

            let latest = try await client.send(.GET, "/configs?latest=true&type=cloud").json?.arrayValue ?? []
            #expect(latest.map { $0["id"] } == [.string(secondID)])
            let history = try await client.send(.GET, "/configs?type=cloud&name=default").json?.arrayValue ?? []
            #expect(history.map { $0["id"] } == [.string(secondID), .string(id)])
            #expect(history.map { $0["current"] } == [true, false])
            #expect(try await client.send(.GET, "/configs/\(id)").json?["content"] == .string(Self.cloudConfig))

            let deleted = try await client.send(.DELETE, "/configs?type=cloud&name=default")
            #expect(deleted.status == .noContent)
            #expect(try await client.send(.GET, "/configs?type=cloud").json == [])
            #expect(try await client.send(.DELETE, "/configs?type=cloud&name=default").status == .notFound)
        }
    }

    @Test("a cloud config with problems is refused with every problem and its path, and nothing is stored")
    func validation() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            let bad = try await Self.postConfig(
                client, type: "cloud", name: "default",
                content: "azs: [{name: z1}]\nvm_types: [{cloud_properties: {}}]\ncompilation: {workers: none}\n")
            #expect(bad.status == .badRequest)
            #expect(bad.json?["code"] == 440_001)
            let description = bad.json?["description"]?.stringValue ?? ""
            #expect(
                description.contains("vm_types[0]") && description.contains("compilation.workers"), "\(description)")
            #expect(try await client.send(.GET, "/configs").json == [])
            let notYAML = try await Self.postConfig(client, type: "resurrection", name: "default", content: "[unclosed")
            #expect(notYAML.status == .badRequest)
        }
    }

    /// The bodies `bosh diff-config` (v7.10.6, `director/diff_config.go`) and `bosh update-config`
    /// send, byte for byte: both keys on each side, the unused one empty.
    @Test(
        "diff-config by ids and by content, and update-config's diff with from.id \"0\" before any version, as the official CLI sends them"
    )
    func diffConfigShapes() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            let json = [("Content-Type", "application/json")]
            let before = try await client.send(
                .POST, "/configs/diff", body: #"{"type":"cloud","name":"default","content":"azs: [{name: z1}]\n"}"#,
                headers: json)
            #expect(before.status == .ok && before.json?["from"] == ["id": "0"], "\(before.json ?? .null)")
            let first = try #require(
                try await Self.postConfig(client, type: "cloud", name: "default", content: "azs: [{name: z1}]\n").json?[
                    "id"]?.stringValue)
            let second = try #require(
                try await Self.postConfig(
                    client, type: "cloud", name: "default", content: "azs: [{name: z1}, {name: z2}]\n"
                ).json?["id"]?.stringValue)

            let byIDs = try await client.send(
                .POST, "/configs/diff",
                body: #"{"from":{"id":"\#(first)","content":""},"to":{"id":"\#(second)","content":""}}"#, headers: json)
            #expect(byIDs.status == .ok, "\(byIDs.json ?? .null)")
            #expect(
                byIDs.json == [
                    "diff": [["azs: [{name: z1}]", "removed"], ["azs: [{name: z1}, {name: z2}]", "added"]]
                ])
            let byContent = try await client.send(
                .POST, "/configs/diff",
                body:
                    #"{"from":{"id":"\#(second)","content":""},"to":{"id":"","content":"azs: [{name: z1}, {name: z2}]\n"}}"#,
                headers: json)
            #expect(byContent.json == ["diff": [["azs: [{name: z1}, {name: z2}]", .null]]])
            let unknown = try await client.send(
                .POST, "/configs/diff", body: #"{"from":{"id":"999","content":""},"to":{"id":"","content":"a: 1"}}"#,
                headers: json)
            #expect(
                unknown.status == .notFound && unknown.json?["code"] == 440_012
                    && unknown.json?["description"] == "Config 999 not found")
        }
    }

    @Test("a cpi config is refused, naming what Bosun does not support, and nothing is stored")
    func cpiConfigRefused() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            let refused = try await Self.postConfig(
                client, type: "cpi", name: "default", content: "cpis: [{name: a, type: aws}]\n")
            #expect(
                refused.status == .badRequest
                    && (refused.json?["description"]?.stringValue ?? "").contains("does not support cpi-config yet"))
            #expect(try await client.send(.GET, "/configs").json == [])
        }
    }

    @Test("the legacy cloud_configs routes the CLI uses: diff, update with ?name=, list as {properties, created_at}")
    func legacyCloudConfig() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            let diff = try await client.send(
                .POST, "/cloud_configs/diff?name=", body: Self.cloudConfig, headers: [("Content-Type", "text/yaml")])
            #expect(diff.status == .ok)
            let rows = diff.json?["diff"]?.arrayValue ?? []
            #expect(!rows.isEmpty && rows.allSatisfy { $0.arrayValue?.count == 2 && $0.arrayValue?[1] == "added" })
            let update = try await client.send(
                .POST, "/cloud_configs?name=", body: Self.cloudConfig, headers: [("Content-Type", "text/yaml")])
            #expect(update.status == .created)
            let list = try await client.send(.GET, "/cloud_configs?limit=1&name=").json?.arrayValue ?? []
            #expect(list.first?["properties"] == .string(Self.cloudConfig))
            #expect(list.first?["created_at"]?.stringValue?.hasSuffix(" UTC") == true)
            let second = try await client.send(
                .POST, "/cloud_configs/diff?name=", body: Self.cloudConfig + "\nvm_extensions: []\n")
            #expect(second.json?["diff"]?.arrayValue?.filter { $0.arrayValue?[1] == "added" }.count == 1)
            // The same config shows up in /configs as type cloud, name default.
            #expect(
                try await client.send(.GET, "/configs?type=cloud&latest=true").json?.arrayValue?.first?["name"]
                    == "default")
        }
    }

    @Test("config changes are events, newest first, filterable, with string ids")
    func events() async throws {
        try await withDirector { director in
            let client = DirectorHTTPClient(director: director)
            _ = try await Self.postConfig(client, type: "runtime", name: "dns", content: "addons: []\n")
            _ = try await client.send(.DELETE, "/configs?type=runtime&name=dns")
            let events = try await client.send(.GET, "/events").json?.arrayValue ?? []
            #expect(events.map { $0["action"] } == ["delete", "update"])
            #expect(events.first?["object_type"] == "config" && events.first?["object_name"] == "runtime/dns")
            #expect(events.first?["user"] == "admin")
            #expect(events.allSatisfy { $0["id"]?.stringValue != nil })
            let updates = try await client.send(.GET, "/events?action=update").json?.arrayValue ?? []
            #expect(updates.count == 1)
            let older =
                try await client.send(.GET, "/events?before_id=\(events.first!["id"]!.stringValue!)").json?.arrayValue
                ?? []
            #expect(older.map { $0["action"] } == ["update"])
            let one = try await client.send(.GET, "/events/\(events.first!["id"]!.stringValue!)")
            #expect(one.json?["action"] == "delete")
        }
    }
}
