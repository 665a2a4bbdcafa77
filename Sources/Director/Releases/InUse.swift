import BosunCore
import FluentKit
import Foundation

/// Which deployments last deployed a release or stemcell: deleting one in use is refused unless
/// forced (`--force`), so a later deploy, recreate or resurrection still finds what it needs.
enum InUse {
    /// Names of deployments whose recorded `releases` (or `stemcells`) list `name` at one of
    /// `versions`.
    static func deployments(
        using name: String, versions: Set<String>, kind: KeyPath<DeploymentRecord, String>, on database: any Database
    ) async throws -> Set<String> {
        var users = Set<String>()
        for deployment in try await DeploymentRecord.query(on: database).all() {
            let entries = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(deployment[keyPath: kind].utf8)))?.arrayValue ?? []
            if entries.contains(where: { $0["name"]?.stringValue == name && versions.contains($0["version"]?.stringValue ?? "") }) {
                users.insert(deployment.name)
            }
        }
        return users
    }
}
