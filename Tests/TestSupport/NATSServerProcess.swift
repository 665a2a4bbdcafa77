import Foundation

/// A real `nats-server` (Debian package) on 127.0.0.1, started for one test and stopped after it.
public final class NATSServerProcess: @unchecked Sendable {
    public struct Options: Sendable {
        public var tls = false
        /// Maps client certificates to users with these permissions (`verify_and_map`).
        public var users: [User] = []
        public var maxPayload: Int?
        /// The address to listen on (a bridge gateway, for VMs to reach it).
        public var host: String = "127.0.0.1"

        public struct User: Sendable {
            public var commonName: String
            public var publish: [String]
            public var subscribe: [String]

            public init(commonName: String, publish: [String], subscribe: [String]) {
                self.commonName = commonName
                self.publish = publish
                self.subscribe = subscribe
            }
        }

        public init(tls: Bool = false, users: [User] = [], maxPayload: Int? = nil, host: String = "127.0.0.1") {
            self.tls = tls
            self.users = users
            self.maxPayload = maxPayload
            self.host = host
        }
    }

    public let directory: URL
    public let options: Options
    public private(set) var port: Int = 0
    private var process: Process?
    private let logLock = NSLock()
    private var logText = ""

    /// The whole server log so far.
    public var log: String { logLock.withLock { logText } }

    public var url: URL { URL(string: "\(options.tls ? "tls" : "nats")://\(options.host):\(port)")! }

    public init(options: Options = Options()) throws {
        self.options = options
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-nats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if options.tls {
            try TestCertificates.generate(
                in: directory, serverIPs: Set(["127.0.0.1", options.host]).sorted(),
                clients: ["director", "rogue-ca-client"] + options.users.map(\.commonName))
        }
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Starts the server (on a free port the first time, on the same port after a `kill`).
    public func start() throws {
        try writeConfiguration()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nats-server")
        process.arguments = ["-c", path("nats.conf")]
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let ready = DispatchSemaphore(value: 0)
        let readyFlag = NSLock()
        nonisolated(unsafe) var signalled = false
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            self.logLock.withLock { self.logText += text }
            if self.port == 0, let range = self.log.range(of: "Listening for client connections on \(self.options.host):") {
                let digits = self.log[range.upperBound...].prefix(while: \.isNumber)
                self.port = Int(digits) ?? 0
            }
            if self.log.contains("Server is ready") {
                readyFlag.withLock {
                    if !signalled {
                        signalled = true
                        ready.signal()
                    }
                }
            }
        }
        logLock.withLock { logText = "" }
        try process.run()
        self.process = process
        guard ready.wait(timeout: .now() + 10) == .success, port != 0 else {
            stop()
            throw NSError(domain: "nats-server", code: 1, userInfo: [NSLocalizedDescriptionKey: "nats-server did not start:\n\(log)"])
        }
    }

    /// Kills the server abruptly (SIGKILL), as a crash would.
    public func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Freezes the server (SIGSTOP): its sockets stay open but nothing answers, like a hung host.
    public func freeze() {
        if let process, process.isRunning { Foundation.kill(process.processIdentifier, SIGSTOP) }
    }

    public func thaw() {
        if let process, process.isRunning { Foundation.kill(process.processIdentifier, SIGCONT) }
    }

    public func stop() {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        process = nil
    }

    deinit {
        thaw()
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private func writeConfiguration() throws {
        var lines = ["host: \"\(options.host)\"", "port: \(port == 0 ? -1 : port)", "server_name: \"bosun-test\""]
        if let maxPayload = options.maxPayload { lines.append("max_payload: \(maxPayload)") }
        if options.tls {
            lines += [
                "tls {", "  cert_file: \"server.crt\"", "  key_file: \"server.key\"", "  ca_file: \"ca.crt\"",
                "  verify_and_map: true", "  timeout: 2", "}",
            ]
            let users = [Options.User(commonName: "director", publish: [">"], subscribe: [">"])] + options.users
            lines.append("authorization {")
            lines.append("  users = [")
            for user in users {
                let publish = user.publish.map { "\"\($0)\"" }.joined(separator: ", ")
                let subscribe = user.subscribe.map { "\"\($0)\"" }.joined(separator: ", ")
                lines.append("    { user: \"CN=\(user.commonName)\", permissions: { publish: [\(publish)], subscribe: [\(subscribe)] } }")
            }
            lines.append("  ]")
            lines.append("}")
        }
        try lines.joined(separator: "\n").write(toFile: path("nats.conf"), atomically: true, encoding: .utf8)
    }
}

/// Throwaway certificates made with the openssl CLI: a CA, a server certificate for 127.0.0.1, one
/// client certificate per name, and a client certificate from a foreign CA (`rogue-ca-client`).
enum TestCertificates {
    static func generate(in directory: URL, serverIPs: [String] = ["127.0.0.1"], clients: [String]) throws {
        let sans = (serverIPs.map { "IP:" + $0 } + ["DNS:nats.bosun.internal"]).joined(separator: ",")
        var script = """
            set -e
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout ca.key -out ca.crt -subj "/CN=bosun-test-ca" 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=nats.bosun.internal" 2>/dev/null
            printf 'subjectAltName=\(sans)\\nextendedKeyUsage=serverAuth\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout rogue-ca.key -out rogue-ca.crt -subj "/CN=rogue-ca" 2>/dev/null

            """
        for name in clients {
            let issuer = name == "rogue-ca-client" ? "rogue-ca" : "ca"
            script += """
                openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout \(name).key -out \(name).csr -subj "/CN=\(name)" 2>/dev/null
                openssl x509 -req -in \(name).csr -CA \(issuer).crt -CAkey \(issuer).key -CAcreateserial -days 2 -extfile client.ext -out \(name).crt 2>/dev/null

                """
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "openssl", code: Int(process.terminationStatus))
        }
    }
}
