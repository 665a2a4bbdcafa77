import BosunCore
import Foundation

// Interpolation benchmark: a generated ~3,000-line manifest and 20 ops files, interpolated by the
// `bosun` binary built next to this one (process start included), then the same work in-process
// broken into stages. Prints figures; asserts nothing.
//
//   swift build -c release --product bosun --product bosun-benchmarks
//   .build/release/bosun-benchmarks [interpolate|nats|local-cpi|agent|director|all] [runs]   (local-cpi needs root)
//   .build/release/bosun-benchmarks deploy [instances] [max_in_flight]                       (root, from the repository root)
//   .build/release/bosun-benchmarks credentials [instances]                                   (root, from the repository root)
//   .build/release/bosun-benchmarks resurrection                                              (root, from the repository root)
//   .build/release/bosun-benchmarks swap [instances]                                        (root, from the repository root)

func runInterpolationBenchmark() throws {
    let runs = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 30 : 30
    let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-bench-\(getpid())")
    try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    defer {
        if ProcessInfo.processInfo.environment["BOSUN_BENCH_KEEP"] == nil {
            try? FileManager.default.removeItem(at: workDirectory)
        }
    }

    let workload = InterpolationWorkload(groups: 60)
    let manifestPath = workDirectory.appendingPathComponent("manifest.yml").path
    try workload.manifest.write(toFile: manifestPath, atomically: true, encoding: .utf8)
    var opsPaths: [String] = []
    for (index, ops) in workload.opsFiles.enumerated() {
        let path = workDirectory.appendingPathComponent("ops-\(index).yml").path
        try ops.write(toFile: path, atomically: true, encoding: .utf8)
        opsPaths.append(path)
    }
    let varsPath = workDirectory.appendingPathComponent("vars.yml").path
    try workload.vars.write(toFile: varsPath, atomically: true, encoding: .utf8)

    let manifestLines = workload.manifest.split(separator: "\n", omittingEmptySubsequences: false).count
    print("workload: manifest \(manifestLines) lines, \(opsPaths.count) ops files, \(workload.variableCount) variables")

    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "bosun")
    let arguments = ["int", manifestPath, "-l", varsPath] + opsPaths.flatMap { ["-o", $0] }

    // posix_spawn and waitpid directly: Foundation's Process.waitUntilExit polls its run loop in
    // 50 ms steps on Linux, which would swamp what is being measured.
    func runOnce() throws -> (Double, Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        let (status, bytes) = try SpawnedProcess.run(binary.path, arguments)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        guard status == 0 else { throw CocoaError(.executableLoad) }
        return (elapsed, bytes)
    }

    _ = try runOnce()  // warm the page cache
    var samples: [Double] = []
    var outputBytes = 0
    for _ in 0..<runs {
        let (ms, bytes) = try runOnce()
        samples.append(ms)
        outputBytes = bytes
    }
    samples.sort()
    func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count - 1) * p))] }
    print(
        String(
            format:
                "bosun int (process, %d runs): min %.1f ms  median %.1f ms  p90 %.1f ms  max %.1f ms  (%d bytes out)",
            runs, samples.first!, percentile(0.5), percentile(0.9), samples.last!, outputBytes))

    // The same work in-process, by stage (median of the runs).
    var stages: [String: [Double]] = [:]
    func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        stages[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        return result
    }
    for _ in 0..<runs {
        let template = try measure("parse manifest") { try ManifestTemplate(parsing: workload.manifest) }
        let ops = try measure("parse 20 ops files") {
            try workload.opsFiles.enumerated().map { try OpsFile(parsing: $1, source: "ops-\($0).yml") }
        }
        let vars = try measure("parse vars file") { try YAMLValue.parse(workload.vars).mapValue! }
        var values: [String: YAMLValue] = [:]
        for (key, value) in vars { values[key.goDisplayString] = value }
        let result = try measure("apply ops + interpolate") {
            try template.evaluate(variables: StaticVariables(values), opsFiles: ops)
        }
        _ = measure("print YAML") { result.yamlText() }
    }
    for name in ["parse manifest", "parse 20 ops files", "parse vars file", "apply ops + interpolate", "print YAML"] {
        let sorted = stages[name]!.sorted()
        print(String(format: "  in-process %-24@ median %7.2f ms", name, sorted[sorted.count / 2]))
    }
}

switch CommandLine.arguments.dropFirst().first ?? "all" {
case "interpolate":
    try runInterpolationBenchmark()
case "nats":
    try await runNATSBenchmark()
case "agent":
    try await runAgentBenchmark()
case "local-cpi":
    try await runLocalCPIBenchmark()
case "director":
    try await runDirectorBenchmark()
case "deploy":
    try await runDeployBenchmark()
case "swap":
    try await runSwapBenchmark()
case "credentials":
    try await runCredentialBenchmark()
case "resurrection":
    try await runResurrectionBenchmark()
case "yaml", "yaml-normal":
    try runYAMLParseBenchmark(includeHostile: CommandLine.arguments[1] == "yaml")
case "yaml-child":
    runYAMLChild(CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "alias-bomb")
case "all":
    try runInterpolationBenchmark()
    try await runNATSBenchmark()
default:
    print(
        "usage: bosun-benchmarks [interpolate|nats|local-cpi|agent|director|deploy|swap|credentials|resurrection|yaml|all] [runs]"
    )
}
