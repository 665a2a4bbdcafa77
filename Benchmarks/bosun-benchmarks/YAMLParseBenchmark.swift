import BosunCore
import Foundation

// YAML reading benchmark: a normal manifest's parse time (the interpolation workload's manifest,
// in-process), then, each in a child process so that its peak RSS is its own, the time and peak
// resident memory to refuse a "billion laughs" alias bomb and to parse a 20 MB manifest.
//
//   swift build -c release --product bosun-benchmarks
//   .build/release/bosun-benchmarks yaml [runs]
//   .build/release/bosun-benchmarks yaml-normal [runs]       (the normal manifest only)

func runYAMLParseBenchmark(includeHostile: Bool) throws {
    let runs = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 30 : 30
    let manifest = InterpolationWorkload(groups: 60).manifest
    _ = try YAMLValue.parse(manifest, source: "manifest")  // warm up
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try YAMLValue.parse(manifest, source: "manifest")
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    print(
        String(
            format: "normal manifest (%d bytes, %d runs): min %.2f ms  median %.2f ms  max %.2f ms",
            manifest.utf8.count,
            runs, samples.first!, samples[samples.count / 2], samples.last!))
    guard includeHostile else { return }
    fflush(nil)  // flush stdout before the children write their lines
    for workload in ["alias-bomb", "twenty-megabytes"] {
        let (status, _) = try SpawnedProcess.run(CommandLine.arguments[0], ["yaml-child", workload])
        guard status == 0 else { throw CocoaError(.executableLoad) }
    }
}

/// One hostile or huge document, parsed in this (fresh) process; prints time and peak RSS.
func runYAMLChild(_ workload: String) {
    let bytes: [UInt8]
    switch workload {
    case "alias-bomb": bytes = Array(YAMLBenchmarkDocuments.aliasBomb.utf8)
    default: bytes = YAMLBenchmarkDocuments.twentyMegabytes()
    }
    let before = ProcessStatus(pid: getpid())["VmHWM"]
    let start = DispatchTime.now().uptimeNanoseconds
    let outcome: String
    do {
        let value = try YAMLValue.parse(bytes: bytes, source: "manifest")
        outcome = "parsed, \(value["instance_groups"]?.arrayValue?.count ?? 0) instance groups"
    } catch {
        outcome = "refused: \(error.message.prefix(100))…"
    }
    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    let peak = ProcessStatus(pid: getpid())["VmHWM"]
    // Standard error: the parent reads (and only counts) standard output.
    let line = String(
        format: "%@ (%d bytes): %.1f ms, peak RSS %@ (%@ before parsing); %@\n", workload, bytes.count, ms, peak,
        before,
        outcome)
    FileHandle.standardError.write(Data(line.utf8))
}

enum YAMLBenchmarkDocuments {
    /// Nine levels of nine aliases: 9^9 strings once expanded, from 350 bytes — the go-yaml
    /// corpus file (the benchmarks run from the repository's root).
    static var aliasBomb: String {
        (try? String(
            contentsOfFile: FileManager.default.currentDirectoryPath
                + "/Tests/BosunCoreTests/Fixtures/yaml-corpus/alias-bomb.yml", encoding: .utf8)) ?? ""
    }

    /// An ordinary manifest shape repeated to 20 MiB.
    static func twentyMegabytes() -> [UInt8] {
        var text = "instance_groups:\n"
        var group = 0
        while text.utf8.count < 20 << 20 {
            text += """
                - name: group-\(group)
                  instances: \(group % 7)
                  azs: [z1, z2, z3]
                  networks: [{name: default, static_ips: [10.0.\(group % 250).1, 10.0.\(group % 250).2]}]
                  jobs:
                  - name: job
                    release: release
                    properties:
                      port: 8080
                      enabled: true
                      motd: "hello, world, from group \(group)"
                      users: [{name: admin, password: ((admin_password))}]

                """
            group += 1
        }
        return Array(text.utf8)
    }
}
