import Foundation

/// Fields of `/proc/<pid>/status` (`VmRSS`, `RssAnon`, `Threads`, …), read once.
struct ProcessStatus {
    private let text: String

    init(pid: Int32) {
        text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    }

    subscript(_ name: String) -> String {
        text.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) } ?? "?"
    }
}
