import AgentProtocol
import Foundation

/// Load, CPU, memory, swap, uptime and disk usage from /proc and statfs, in BOSH's string format.
enum Vitals {
    static func current(paths: AgentPaths) -> Heartbeat.Vitals {
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "0 0 0")
            .split(separator: " ").prefix(3).map(String.init)
        let meminfo = memInfo()
        let total = meminfo["MemTotal"] ?? 0
        let available = meminfo["MemAvailable"] ?? 0
        let used = max(0, total - available)
        let swapTotal = meminfo["SwapTotal"] ?? 0
        let swapUsed = max(0, swapTotal - (meminfo["SwapFree"] ?? 0))
        let uptime = Int(Double(((try? String(contentsOfFile: "/proc/uptime", encoding: .utf8)) ?? "0").split(separator: " ").first ?? "0") ?? 0)
        var disks: [String: Heartbeat.Vitals.DiskUsage] = [:]
        for (name, path) in [("system", "/"), ("ephemeral", paths.data), ("persistent", paths.store)] {
            if name == "persistent" && !Filesystem.isMountpoint(paths.store) { continue }
            if let usage = diskUsage(path) { disks[name] = usage }
        }
        let cpu = cpuPercentages()
        return Heartbeat.Vitals(
            cpu: .init(sys: cpu.sys, user: cpu.user, wait: cpu.wait), disk: disks,
            load: load.count == 3 ? load : ["0", "0", "0"],
            mem: .init(kb: String(used), percent: percent(used, total)),
            swap: .init(kb: String(swapUsed), percent: percent(swapUsed, swapTotal)), uptime: .init(secs: uptime))
    }

    private static func memInfo() -> [String: Int] {
        var values: [String: Int] = [:]
        for line in ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":")
            guard parts.count == 2 else { continue }
            values[String(parts[0])] = Int(parts[1].split(separator: " ").first ?? "")
        }
        return values
    }

    private static func percent(_ part: Int, _ whole: Int) -> String {
        whole > 0 ? String(Int((Double(part) * 100 / Double(whole)).rounded())) : "0"
    }

    private static func diskUsage(_ path: String) -> Heartbeat.Vitals.DiskUsage? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0, stats.f_blocks > 0 else { return nil }
        let used = Double(stats.f_blocks - stats.f_bfree) * 100 / Double(stats.f_blocks)
        let inodes = stats.f_files > 0 ? Double(stats.f_files - stats.f_ffree) * 100 / Double(stats.f_files) : 0
        return .init(percent: String(Int(used.rounded())), inodePercent: String(Int(inodes.rounded())))
    }

    /// Since-boot CPU shares from /proc/stat (a fair summary for a heartbeat).
    private static func cpuPercentages() -> (sys: String, user: String, wait: String) {
        guard let line = ((try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? "").split(separator: "\n").first,
            line.hasPrefix("cpu ")
        else { return ("0", "0", "0") }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return ("0", "0", "0") }
        let total = values.reduce(0, +)
        func share(_ value: Double) -> String { String(format: "%.1f", total > 0 ? value * 100 / total : 0) }
        return (share(values[2]), share(values[0] + values[1]), share(values[4]))
    }
}
