import Foundation
import Synchronization

/// A real PostgreSQL server (Debian's `postgresql` package) in a fresh data directory on a free
/// loopback port, run as the `postgres` user for one test, then stopped and removed.
public final class PostgresServerProcess: @unchecked Sendable {
    public let port: Int
    private let directory: String
    private let process: Process
    private static let superuser = "bosun"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `postgres://bosun@127.0.0.1:<port>/<database>` (local trust authentication).
    public func url(database: String) -> String { "postgres://\(Self.superuser)@127.0.0.1:\(port)/\(database)" }

    private init(port: Int, directory: String, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    static func binDirectory() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw Failure(description: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    public static func start() throws -> PostgresServerProcess {
        let bin = try binDirectory()
        let directory = "/tmp/bosun-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try run("/bin/chown", ["postgres:postgres", directory])
        try run("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/initdb", "-D", directory + "/data", "-A", "trust", "-U", superuser, "--no-sync", "-E", "UTF8"])
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        server.arguments = [
            "-u", "postgres", "--", bin + "/postgres", "-D", directory + "/data", "-p", "\(port)", "-k", directory,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
        ]
        server.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        server.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try server.run()
        let postgres = PostgresServerProcess(port: port, directory: directory, process: server)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? run(bin + "/pg_isready", ["-q", "-h", "127.0.0.1", "-p", "\(port)"])) != nil { return postgres }
            guard server.isRunning else { break }
            usleep(100_000)
        }
        postgres.stop()
        throw Failure(description: "PostgreSQL did not start on port \(port)")
    }

    /// Creates an empty database and returns its URL.
    public func createDatabase(_ name: String) throws -> String {
        try Self.run(try Self.binDirectory() + "/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.superuser, name])
        return url(database: name)
    }

    /// Kills the server (SIGQUIT: immediate shutdown, nothing to keep) and removes its files.
    public func stop() {
        if process.isRunning {
            // runuser does not pass signals on: signal the postmaster itself (first line of its pid
            // file), and runuser ends with it.
            if let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
                let line = text.split(separator: "\n").first, let pid = pid_t(line)
            {
                kill(pid, SIGQUIT)
            } else {
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return 0
    }

    /// A loopback port nothing listens on right now, for a server a test starts. Taken from
    /// below the kernel's ephemeral range (32768 and up) and never the same twice in this test
    /// process: a port the kernel picked for a bind to 0 could be handed out again — as another
    /// test's port or as the source port of any outgoing connection — before the server binds it,
    /// and a test would then talk to somebody else's server.
    public static func freePort() throws -> Int {
        try TestPorts.next()
    }
}

/// Runs `body` with a fresh PostgreSQL database's URL; the server is stopped afterwards.
public func withPostgres<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
    let server = try PostgresServerProcess.start()
    do {
        let result = try await body(try server.createDatabase("bosun_test"))
        server.stop()
        return result
    } catch {
        server.stop()
        throw error
    }
}

/// The ports `freePort()` hands out: 20000–32767, from a random start per process, each once.
enum TestPorts {
    private static let range = 20_000..<32_768
    private static let cursor = Mutex(Int.random(in: 0..<(32_768 - 20_000)))

    static func next() throws -> Int {
        for _ in 0..<range.count {
            let port = cursor.withLock { offset -> Int in
                defer { offset = (offset + 1) % range.count }
                return range.lowerBound + offset
            }
            if isFree(port) { return port }
        }
        throw PostgresServerProcess.Failure(description: "no free port in \(range)")
    }

    /// Whether a listening socket could bind the port on 127.0.0.1 now.
    private static func isFree(_ port: Int) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var reuse: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
