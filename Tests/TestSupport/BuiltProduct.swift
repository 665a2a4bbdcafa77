import Foundation

/// Executables of this package (bosun, bosun-agent, bosun-local-cpi) sit next to the test bundle in
/// the build products folder, wherever `--scratch-path` put it. `BOSUN_AGENT_BINARY` points the
/// tests at another agent build (the lean one that goes onto VMs, scripts/build-lean-agent).
public enum BuiltProduct {
    public static func path(_ name: String) -> String {
        if name == "bosun-agent", let agent = ProcessInfo.processInfo.environment["BOSUN_AGENT_BINARY"], !agent.isEmpty {
            return agent
        }
        let runner = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return runner.deletingLastPathComponent().appendingPathComponent(name).path
    }
}
