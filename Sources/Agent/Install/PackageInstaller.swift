import AgentProtocol
import Foundation

/// Compiled packages under `data/packages/<name>/<sha1(version)>`, enabled by the link
/// `packages/<name>` (reference §7.6 step 4). An install directory appears only complete: it is
/// unpacked beside its final name and renamed into place.
struct PackageInstaller: Sendable {
    let paths: AgentPaths
    let fetcher: BlobFetcher

    func directory(of package: BlobReference) -> String {
        paths.dataPackages + "/" + package.name + "/" + SHA1.hex(Data(package.version.utf8))
    }

    /// Downloads and unpacks `package` unless that version is already there; returns its directory.
    @discardableResult
    func install(_ package: BlobReference) async throws -> String {
        try Self.checkName(package.name, kind: "package")
        let target = directory(of: package)
        if FileManager.default.fileExists(atPath: target) { return target }
        let blob = try await fetcher.fetch(package.blobstoreID, digest: package.sha1, what: "package \(package.name)", signedURL: package.signedURL)
        defer { blob.discard() }
        let staging = paths.dataPackages + "/" + package.name + "/.installing-" + UUID().uuidString.lowercased()
        do {
            try await TarArchive.extract(blob.path, into: staging)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw ActionError("package \(package.name): \(error)")
        }
        guard rename(staging, target) == 0 else {
            try? FileManager.default.removeItem(atPath: staging)
            throw ActionError("package \(package.name): cannot move into \(target)")
        }
        return target
    }

    /// Points `packages/<name>` at the installed version.
    func enable(_ package: BlobReference) throws {
        try Filesystem.replaceSymlink(at: paths.packages + "/" + package.name, pointingTo: directory(of: package))
    }

    /// Removes packages that are not in `keep` and older versions of those that are.
    func prune(keeping keep: [BlobReference]) {
        let wanted = Dictionary(keep.map { ($0.name, URL(fileURLWithPath: directory(of: $0)).lastPathComponent) }, uniquingKeysWith: { a, _ in a })
        InstalledVersions(links: paths.packages, versions: paths.dataPackages).prune(keeping: wanted)
    }

    /// Job and package names become path components; nothing that could climb out is accepted.
    static func checkName(_ name: String, kind: String) throws {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name.utf8.count <= 255 else {
            throw ActionError("invalid \(kind) name '\(name)'")
        }
    }
}
