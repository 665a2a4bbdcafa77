import BosunCore
import CPI
import Foundation

/// A local-CPI stemcell: the `image` of a BOSH stemcell tarball is a small tarball holding
/// `stemcell.json`; the VM's root is a skeleton with the host's `/usr`, `/etc`, `/opt` bound read-only.
enum LocalStemcell {
    static let format = "bosun-local"

    struct Manifest: Codable {
        var name: String
        var os: String
        /// Host directories bound read-only into every VM.
        var hostDirectories: [String]

        enum CodingKeys: String, CodingKey {
            case name, os
            case hostDirectories = "host_directories"
        }
    }
}

extension LocalCPI {
    public func createStemcell(imagePath: String, cloudProperties: JSONValue) async throws(CPIError) -> String {
        try paths.prepare()
        guard FileManager.default.fileExists(atPath: imagePath) else {
            throw CPIError(.cloudError, "stemcell image '\(imagePath)' does not exist")
        }
        let cid = "sc-" + UUID().uuidString.lowercased()
        let directory = paths.stemcell(cid)
        let staging = directory + ".partial"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw CPIError(.cloudError, "cannot create \(staging): \(error.localizedDescription)")
        }
        do {
            try await HostCommand.run("/bin/tar", ["-xzf", imagePath, "-C", staging])
            guard let manifest = RecordFile.read(LocalStemcell.Manifest.self, from: staging + "/stemcell.json") else {
                throw CPIError(.cloudError, "stemcell image '\(imagePath)' has no valid stemcell.json")
            }
            for directory in manifest.hostDirectories where !directory.hasPrefix("/") {
                throw CPIError(.cloudError, "stemcell host directory '\(directory)' is not absolute")
            }
            guard rename(staging, directory) == 0 else { throw CPIError(.cloudError, "cannot install stemcell \(cid)") }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            if let error = error as? CPIError { throw error }
            throw CPIError(.cloudError, "cannot unpack stemcell image '\(imagePath)': \(error)")
        }
        return cid
    }

    public func deleteStemcell(_ stemcellCID: String) async throws(CPIError) {
        try? FileManager.default.removeItem(atPath: paths.stemcell(stemcellCID))
    }

    func stemcellManifest(_ cid: String) throws(CPIError) -> LocalStemcell.Manifest {
        guard let manifest = RecordFile.read(LocalStemcell.Manifest.self, from: paths.stemcell(cid) + "/stemcell.json")
        else { throw CPIError(.cloudError, "stemcell '\(cid)' does not exist") }
        return manifest
    }

    /// Builds the default stemcell tarball (`stemcell.MF` + `image`) into `directory`.
    public static func buildStemcell(into directory: String, version: String = "1") async throws -> String {
        let staging = directory + "/.build-\(getpid())"
        try FileManager.default.createDirectory(atPath: staging + "/content", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let manifest = LocalStemcell.Manifest(
            name: "bosh-bosun-local-ubuntu-jammy", os: "ubuntu-jammy", hostDirectories: ["/usr", "/etc", "/opt"])
        try JSONCoding.encoder.encode(manifest).write(to: URL(fileURLWithPath: staging + "/content/stemcell.json"))
        try await HostCommand.run("/bin/tar", ["-czf", staging + "/image", "-C", staging + "/content", "stemcell.json"])
        let stemcellManifest = """
            ---
            name: \(manifest.name)
            version: '\(version)'
            operating_system: \(manifest.os)
            api_version: 3
            stemcell_formats:
            - \(LocalStemcell.format)
            cloud_properties: {}

            """
        try stemcellManifest.write(toFile: staging + "/stemcell.MF", atomically: true, encoding: .utf8)
        let output = directory + "/bosun-local-stemcell-\(version).tgz"
        try await HostCommand.run("/bin/tar", ["-czf", output, "-C", staging, "stemcell.MF", "image"])
        return output
    }
}
