import Foundation

/// The shape jobs and packages share on disk: versions unpacked under `<versions>/<name>/<version>`,
/// the enabled one linked from `<links>/<name>`. Entries starting with `.` are unpacking in progress
/// and are left alone.
struct InstalledVersions: Sendable {
    let links: String
    let versions: String

    /// Removes the links and directories of names not in `wanted` (name → version directory name),
    /// and every version of a wanted name but the wanted one.
    func prune(keeping wanted: [String: String]) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: links)) ?? [] where wanted[name] == nil && !name.hasPrefix(".") {
            unlink(links + "/" + name)
        }
        for name in (try? fm.contentsOfDirectory(atPath: versions)) ?? [] where !name.hasPrefix(".") {
            let directory = versions + "/" + name
            guard let version = wanted[name] else {
                try? fm.removeItem(atPath: directory)
                continue
            }
            for entry in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where entry != version && !entry.hasPrefix(".") {
                try? fm.removeItem(atPath: directory + "/" + entry)
            }
        }
    }
}
