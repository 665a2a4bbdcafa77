import Foundation

/// A 20-instance deploy of the example release on this machine (root; run from the repository
/// root). Prints the deploy's wall time, the CPI's summed time, the agents' and the director's own
/// share as the director measured them (wall time with no CPI call, agent call, render or watch
/// in flight), then deletes everything.
///
///   .build/release/bosun-benchmarks deploy [instances] [max_in_flight]
func runDeployBenchmark() async throws {
    let instances = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 20 : 20
    let maxInFlight = CommandLine.arguments.count > 3 ? Int(CommandLine.arguments[3]) ?? 10 : 10
    let bench = try await BenchDirector()
    defer { bench.tearDown() }
    try bench.prepare()
    let (task, wall) = try bench.deploy(bench.manifest(instances: instances, maxInFlight: maxInFlight))
    guard let timing = try bench.taskLines(task, "--result").first as? [String: Double] else {
        throw NSError(domain: "no timing", code: 1)
    }
    let own = timing["director_own_seconds"] ?? 0
    let taskWall = timing["wall_seconds"] ?? 0
    print(String(format: "deploy %d instances, max_in_flight %d: CLI wall %.1f s, task wall %.1f s", instances, maxInFlight, wall, taskWall))
    print(String(
        format: "  summed over parallel calls: CPI %.1f s, agent %.1f s (VM boot, compile, apply, start), watch %.1f s, render %.2f s",
        timing["cpi_seconds"] ?? 0, timing["agent_seconds"] ?? 0, timing["watch_seconds"] ?? 0, timing["render_seconds"] ?? 0))
    print(String(
        format: "  director's own time (nothing external in flight): %.2f s = %.1f%% of the task's wall time",
        own, taskWall > 0 ? 100 * own / taskWall : 0))
}
