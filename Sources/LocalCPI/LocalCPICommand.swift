import BosunCore
import CPI
import Foundation

/// `bosun-local-cpi`: one CPI call per run (request on stdin, response on stdout), or
/// `bosun-local-cpi build-stemcell DIR [VERSION]` to build the default stemcell tarball.
public enum LocalCPICommand {
    public static func main(arguments: [String]) async -> Int32 {
        if arguments.first == "build-stemcell" {
            guard arguments.count >= 2 else {
                FileHandle.standardError.write(Data("usage: bosun-local-cpi build-stemcell DIR [VERSION]\n".utf8))
                return 2
            }
            do {
                let path = try await LocalCPI.buildStemcell(into: arguments[1], version: arguments.count > 2 ? arguments[2] : "1")
                print(path)
                return 0
            } catch {
                FileHandle.standardError.write(Data("build-stemcell: \(error)\n".utf8))
                return 1
            }
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let response: CPIResponse
        do {
            let configuration = try LocalCPIConfiguration(file: configPath(arguments))
            response = await CPIRequestHandler(provider: LocalCPI(configuration: configuration)).handle(input)
        } catch {
            response = CPIResponse(result: nil, error: CPIError(.cpiError, error.description).body, log: "")
        }
        let output = (try? JSONCoding.encoder.encode(response)) ?? Data(#"{"result":null,"error":{"type":"Bosh::Clouds::CpiError","message":"cannot encode response","ok_to_retry":false},"log":""}"#.utf8)
        FileHandle.standardOutput.write(output)
        return 0
    }

    /// `-configPath FILE` (as BOSH CPIs take it), else `BOSUN_LOCAL_CPI_CONFIG`.
    static func configPath(_ arguments: [String]) -> String {
        if let index = arguments.firstIndex(where: { $0 == "-configPath" || $0 == "--config" }), index + 1 < arguments.count {
            return arguments[index + 1]
        }
        return ProcessInfo.processInfo.environment["BOSUN_LOCAL_CPI_CONFIG"] ?? "/var/lib/bosun/local-cpi.yml"
    }
}
