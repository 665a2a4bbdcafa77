import BosunCore
import FluentKit
import Foundation

/// The cloud and runtime configs a deploy uses: the latest version of every name — or, when the
/// deploy carries the `context` its diff was made against (`bosh deploy` sends it), exactly the
/// versions that diff showed, so a config updated between the diff and the deploy is not
/// deployed unseen.
struct DeployConfigs: Sendable {
    var cloud: [ConfigRecord]
    var runtime: [ConfigRecord]

    /// `{"cloud_config_ids": [...], "runtime_config_ids": [...]}` as the diff answers and the
    /// CLI sends back.
    struct Context: Codable, Sendable, Equatable {
        var cloudConfigIDs: [Int]
        var runtimeConfigIDs: [Int]

        enum CodingKeys: String, CodingKey {
            case cloudConfigIDs = "cloud_config_ids"
            case runtimeConfigIDs = "runtime_config_ids"
        }

        init(cloudConfigIDs: [Int], runtimeConfigIDs: [Int]) {
            self.cloudConfigIDs = cloudConfigIDs
            self.runtimeConfigIDs = runtimeConfigIDs
        }

        /// A missing or null list is an empty one.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            cloudConfigIDs = try container.decodeIfPresent([Int].self, forKey: .cloudConfigIDs) ?? []
            runtimeConfigIDs = try container.decodeIfPresent([Int].self, forKey: .runtimeConfigIDs) ?? []
        }
    }

    var context: Context {
        Context(cloudConfigIDs: cloud.compactMap(\.id).sorted(), runtimeConfigIDs: runtime.compactMap(\.id).sorted())
    }

    static func latest(on database: any Database) async throws -> DeployConfigs {
        let store = ConfigStore(database: database)
        return DeployConfigs(
            cloud: try await store.list(type: "cloud", name: nil, latest: true, limit: nil),
            runtime: try await store.list(type: "runtime", name: nil, latest: true, limit: nil))
    }

    /// The pinned versions when `context` is given (each must exist and be of its type), else
    /// the latest.
    static func resolve(_ context: Context?, on database: any Database) async throws -> DeployConfigs {
        guard let context else { return try await latest(on: database) }
        func pinned(_ ids: [Int], type: String) async throws -> [ConfigRecord] {
            guard !ids.isEmpty else { return [] }
            let found = try await ConfigRecord.query(on: database).filter(\.$id ~~ ids).all()
            let missing = Set(ids).subtracting(found.filter { $0.type == type }.compactMap(\.id))
            guard missing.isEmpty else {
                throw DeployError(
                    "The deploy's context names \(type) config id\(missing.count == 1 ? "" : "s") "
                        + missing.sorted().map(String.init).joined(separator: ", ")
                        + ", which the director does not have")
            }
            return found
        }
        return DeployConfigs(
            cloud: try await pinned(context.cloudConfigIDs, type: "cloud"),
            runtime: try await pinned(context.runtimeConfigIDs, type: "runtime"))
    }

    /// Every cloud config read as one (`CloudConfigMerge`).
    func cloudConfig() throws -> CloudConfig {
        guard !cloud.isEmpty else { throw DeployError("No cloud config: set one with 'bosun update-cloud-config'") }
        do {
            var named: [CloudConfigMerge.Named] = []
            for record in cloud {
                named.append(
                    CloudConfigMerge.Named(
                        name: record.name,
                        document: try YAMLValue.parse(record.content, source: "cloud config '\(record.name)'")))
            }
            return try CloudConfig(document: try CloudConfigMerge.merge(named))
        } catch let error as CloudConfigMerge.Conflict {
            throw DeployError(error.description)
        } catch {
            throw DeployError("\(error)")
        }
    }
}

extension DeployConfigs.Context {
    /// The task argument (a JSON text, as the query carries it); nil when absent, an error naming
    /// the argument when it is not the shape the CLI sends.
    init?(argument: JSONValue?) throws {
        guard let text = argument?.stringValue, !text.isEmpty else { return nil }
        do {
            self = try JSONCoding.decoder.decode(Self.self, from: Data(text.utf8))
        } catch {
            throw DeployError(
                "The deploy's context is not {\"cloud_config_ids\": [...], \"runtime_config_ids\": [...]}")
        }
    }
}
