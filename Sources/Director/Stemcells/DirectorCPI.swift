import BosunCore
import CPI
import Foundation

/// The CPI the director drives: the configured executable, or by default the local CPI that sits
/// beside `bosun-director`, with a config the director writes into its state directory
/// (`work_dir` there, the `bosun-agent` beside it as the VMs' agent).
public enum DirectorCPI {
    public static func make(
        _ configuration: DirectorConfiguration, directorUUID: String, binariesDirectory: String, log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> any CloudProvider {
        if let path = configuration.cpiPath {
            let arguments = configuration.cpiConfigPath.map { ["-configPath", $0] } ?? []
            return ExternalCPI(executable: path, arguments: arguments, directorUUID: directorUUID, log: log)
        }
        let workDirectory = configuration.stateDirectory + "/local-cpi"
        let configPath = configuration.stateDirectory + "/local-cpi.yml"
        if !FileManager.default.fileExists(atPath: configPath) {
            try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
            try "work_dir: \(workDirectory)\nagent_path: \(binariesDirectory)/bosun-agent\n"
                .write(toFile: configPath, atomically: true, encoding: .utf8)
        }
        return ExternalCPI(
            executable: binariesDirectory + "/bosun-local-cpi", arguments: ["-configPath", configPath], directorUUID: directorUUID, log: log)
    }
}
