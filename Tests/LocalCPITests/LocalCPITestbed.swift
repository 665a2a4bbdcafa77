import BosunCore
import CPI
import Foundation
import Testing

@testable import LocalCPI

/// A local CPI with its own work directory, bridge and subnet, unique to this test run, removed
/// afterwards (VMs, disks, bridge), so runs never collide with each other or with debris.
final class LocalCPITestbed: @unchecked Sendable {
    let directory: String
    let cpi: LocalCPI
    let subnet: String  // e.g. "10.213.47"
    let bridge: String
    private(set) var stemcellCID = ""

    init(runtime: String = "runc") async throws {
        let token = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-lcpi-\(token)").path
        bridge = "bt" + String(token.prefix(8))
        subnet = "10.\(Int.random(in: 200...250)).\(Int.random(in: 1...254))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let agent = directory + "/agent.sh"
        // Stands in for bosun-agent: marks readiness and serves /var/vcap over HTTP.
        try """
            #!/bin/sh
            touch /var/vcap/ready
            exec /usr/bin/python3 -m http.server 8080 --bind 0.0.0.0 --directory /var/vcap
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        chmod(agent, 0o755)
        cpi = LocalCPI(configuration: .init(
            workDirectory: directory + "/work", bridgeName: bridge, runtime: runtime, agentPath: agent, maxVMs: 30,
            runtimeRoot: "/run/bosun-local-cpi-test-\(token)"))
        let tarball = try await LocalCPI.buildStemcell(into: directory)
        try FileManager.default.createDirectory(atPath: directory + "/stemcell", withIntermediateDirectories: true)
        try await run("/bin/tar", ["-xzf", tarball, "-C", directory + "/stemcell"])
        stemcellCID = try await cpi.createStemcell(imagePath: directory + "/stemcell/image", cloudProperties: [:])
    }

    func networks(_ host: Int) -> JSONValue {
        ["default": ["type": "manual", "ip": .string("\(subnet).\(host)"), "netmask": "255.255.255.0",
                     "gateway": .string("\(subnet).1"), "default": ["dns", "gateway"], "cloud_properties": [:]]]
    }

    func createVM(host: Int, ramMB: Int = 256) async throws -> String {
        let (cid, _) = try await cpi.createVM(
            agentID: "agent-\(host)", stemcellCID: stemcellCID, cloudProperties: ["ram": .int(ramMB), "cpu": 1],
            networks: networks(host), diskCIDs: [], env: ["bosh": ["mbus": ["urls": ["nats://10.0.0.1:4222"]]]])
        return cid
    }

    /// Waits until the VM's main process has written its readiness marker.
    func waitUntilReady(_ cid: String) async throws {
        let marker = cpi.paths.vm(cid) + "/vcap/ready"
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: marker) {
            guard ContinuousClock.now < deadline else { throw TestbedError("VM \(cid) never became ready") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Runs a command inside the VM (`runc exec`), returning status and output.
    func exec(_ cid: String, _ command: String) async -> (status: Int32, output: String) {
        let binary = cpi.configuration.runtime == "crun" ? "/usr/bin/crun" : "/usr/sbin/runc"
        return await runCapturing(binary, ["--root", cpi.configuration.runtimeRoot, "exec", cid, "/bin/sh", "-c", command])
    }

    func cleanup() async {
        for vm in (try? FileManager.default.contentsOfDirectory(atPath: cpi.paths.vms)) ?? [] {
            try? await cpi.deleteVM(vm)
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: cpi.paths.disks)) ?? [] where file.hasSuffix(".json") {
            try? await cpi.deleteDisk(String(file.dropLast(5)))
        }
        _ = await runCapturing("/usr/sbin/ip", ["link", "del", bridge])
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: cpi.configuration.runtimeRoot)
    }

    func run(_ executable: String, _ arguments: [String]) async throws {
        let result = await runCapturing(executable, arguments)
        guard result.status == 0 else { throw TestbedError("\(executable) \(arguments): \(result.output)") }
    }

    func runCapturing(_ executable: String, _ arguments: [String]) async -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct TestbedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Connects to `host:port` over TCP, as something on the host would.
func canConnect(to host: String, port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    inet_pton(AF_INET, host, &address.sin_addr)
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
