import Foundation

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

    /// A port nothing listens on right now (the kernel's pick for an ephemeral bind).
    public static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0 else { throw Failure(description: "cannot find a free port") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
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
