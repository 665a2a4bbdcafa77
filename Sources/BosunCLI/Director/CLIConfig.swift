import BosunCore
import Foundation

/// What `alias-env` and `login` remember, in `~/.bosun/config` (or `BOSUN_CONFIG`), mode 0600:
/// per environment its URL, alias, CA certificate and, after `login`, the credentials — in clear
/// text, as `bosh login` keeps them.
struct CLIConfig: Codable, Equatable {
    struct Environment: Codable, Equatable {
        var url: String
        var alias: String?
        var caCert: String?
        var username: String?
        var password: String?

        enum CodingKeys: String, CodingKey {
            case url, alias, username, password
            case caCert = "ca_cert"
        }
    }

    var environments: [Environment] = []

    static func path(environment: [String: String]) -> String {
        if let path = environment["BOSUN_CONFIG"], !path.isEmpty { return path }
        return (environment["HOME"] ?? "/root") + "/.bosun/config"
    }

    static func load(environment: [String: String]) throws(CommandFailure) -> CLIConfig {
        let path = path(environment: environment)
        guard let data = FileManager.default.contents(atPath: path) else { return CLIConfig() }
        do {
            return try JSONCoding.decoder.decode(CLIConfig.self, from: data)
        } catch {
            throw CommandFailure(message: "Reading CLI config '\(path)': not a Bosun config file")
        }
    }

    func save(environment: [String: String]) throws(CommandFailure) {
        let path = Self.path(environment: environment)
        do {
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            let data = try JSONCoding.encoder.encode(self)
            let temporary = path + ".tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
                rename(temporary, path) == 0
            else { throw CommandFailure(message: "Writing CLI config '\(path)' failed") }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(message: "Writing CLI config '\(path)': \(error.localizedDescription)")
        }
    }

    /// The environment an `-e` value names: an alias, or a URL already known.
    func find(_ name: String) -> Environment? {
        environments.first { $0.alias == name } ?? environments.first { $0.url == DirectorTarget.normalizedURL(name) }
    }

    mutating func upsert(_ environment: Environment) {
        environments.removeAll { $0.url == environment.url || ($0.alias != nil && $0.alias == environment.alias) }
        environments.append(environment)
    }
}
