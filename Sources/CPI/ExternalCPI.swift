import BosunCore
import Foundation
import Subprocess
import SystemPackage

/// Runs any BOSH CPI executable, one process per call (reference §6.1): the request goes to stdin,
/// the response is read from stdout, stderr and the response's `log` go to `log`. The environment
/// is wiped except `PATH`, `TMPDIR` and `HOME`; a call that outlives `timeout` is killed.
public struct ExternalCPI: CloudProvider {
    public var executable: String
    /// Extra arguments (e.g. `-configPath FILE`), as some CPIs take.
    public var arguments: [String]
    public var directorUUID: String
    /// The CPI config entry's `properties`, merged into every request's `context`.
    public var properties: [String: JSONValue]
    public var apiVersion: Int?
    public var timeout: Duration
    /// Receives the CPI's debug output: its stderr and each response's `log`.
    public var log: @Sendable (String) -> Void

    public init(
        executable: String, arguments: [String] = [], directorUUID: String, properties: [String: JSONValue] = [:],
        apiVersion: Int? = 2, timeout: Duration = .seconds(600), log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.executable = executable
        self.arguments = arguments
        self.directorUUID = directorUUID
        self.properties = properties
        self.apiVersion = apiVersion
        self.timeout = timeout
        self.log = log
    }

    /// One call: returns `result`, or throws the CPI's error.
    public func call(_ method: String, _ arguments: [JSONValue]) async throws(CPIError) -> JSONValue {
        var context = properties
        context["director_uuid"] = .string(directorUUID)
        context["request_id"] = .string("cpi-" + String(Int.random(in: 100_000...999_999)))
        let request = CPIRequest(
            method: method, arguments: arguments, context: context, apiVersion: method == "info" ? nil : apiVersion)
        let input: Data
        do {
            input = try JSONCoding.encoder.encode(request)
        } catch {
            throw CPIError(.cpiError, "encoding '\(method)': \(error)")
        }
        let output = try await run(input, method: method)
        let response: CPIResponse
        do {
            response = try JSONCoding.decoder.decode(CPIResponse.self, from: output)
        } catch {
            let excerpt = String(decoding: output.prefix(200), as: UTF8.self)
            throw CPIError(.invalidResponse, "'\(method)' returned something that is not a CPI response: \(excerpt)")
        }
        if !response.log.isEmpty { log(response.log) }
        if let error = response.error { throw CPIError(body: error) }
        return response.result ?? .null
    }

    private func run(_ input: Data, method: String) async throws(CPIError) -> Data {
        let environment = ProcessInfo.processInfo.environment
        var variables: [Environment.Key: String] = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        for key in ["TMPDIR", "HOME"] { if let value = environment[key] { variables[Environment.Key(stringLiteral: key)] = value } }
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: .custom(variables))
        let limit = timeout
        do {
            return try await withThrowingTaskGroup(of: Data?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        configuration, input: .data(input), output: .data(limit: 256 * 1024 * 1024),
                        error: .string(limit: 16 * 1024 * 1024))
                    if !result.standardError.isEmpty { log(result.standardError) }
                    return result.standardOutput
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let output = first else {
                    throw CPIError(.timeout, "'\(method)' did not finish within \(limit)")
                }
                return output
            }
        } catch let error as CPIError {
            throw error
        } catch {
            throw CPIError(.cpiError, "running CPI '\(executable)' for '\(method)': \(error)")
        }
    }
}

extension ExternalCPI {
    public func info() async throws(CPIError) -> CPIInfo {
        try decode(try await call("info", []), as: CPIInfo.self, method: "info")
    }

    public func createStemcell(imagePath: String, cloudProperties: JSONValue) async throws(CPIError) -> String {
        try string(try await call("create_stemcell", [.string(imagePath), cloudProperties]), method: "create_stemcell")
    }

    public func deleteStemcell(_ stemcellCID: String) async throws(CPIError) {
        _ = try await call("delete_stemcell", [.string(stemcellCID)])
    }

    public func createVM(
        agentID: String, stemcellCID: String, cloudProperties: JSONValue, networks: JSONValue, diskCIDs: [String],
        env: JSONValue
    ) async throws(CPIError) -> (vmCID: String, networks: JSONValue) {
        let result = try await call(
            "create_vm",
            [.string(agentID), .string(stemcellCID), cloudProperties, networks, .array(diskCIDs.map(JSONValue.string)), env])
        switch result {
        case .string(let cid): return (cid, networks)  // API v1 shape
        case .array(let items) where items.count >= 1:
            return (try string(items[0], method: "create_vm"), items.count > 1 ? items[1] : networks)
        default:
            throw CPIError(.invalidResponse, "'create_vm' returned neither a VM CID nor [vm_cid, networks]")
        }
    }

    public func deleteVM(_ vmCID: String) async throws(CPIError) { _ = try await call("delete_vm", [.string(vmCID)]) }

    public func listVMs() async throws(CPIError) -> [ListedVM] {
        guard case .array(let items) = try await call("list_vms", []) else {
            throw CPIError(.invalidResponse, "'list_vms' did not return a list")
        }
        return items.compactMap { item in
            guard let cid = item["vm_cid"]?.stringValue else { return nil }
            return ListedVM(vmCID: cid, agentID: item["agent_id"]?.stringValue ?? "", groups: item["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    public func findVMs(agentID: String) async throws(CPIError) -> [String] {
        guard case .array(let items) = try await call("find_vms_by_agent", [.string(agentID)]) else {
            throw CPIError(.invalidResponse, "'find_vms_by_agent' did not return a list of VM CIDs")
        }
        return items.compactMap(\.stringValue)
    }

    public func moveAddress(from sourceVMCID: String, to targetVMCID: String, networks: JSONValue) async throws(CPIError) -> JSONValue {
        try await call("move_address", [.string(sourceVMCID), .string(targetVMCID), networks])
    }

    public func hasVM(_ vmCID: String) async throws(CPIError) -> Bool {
        try bool(try await call("has_vm", [.string(vmCID)]), method: "has_vm")
    }

    public func rebootVM(_ vmCID: String) async throws(CPIError) { _ = try await call("reboot_vm", [.string(vmCID)]) }

    public func setVMMetadata(_ vmCID: String, _ metadata: [String: String]) async throws(CPIError) {
        _ = try await call("set_vm_metadata", [.string(vmCID), .object(metadata.mapValues(JSONValue.string))])
    }

    public func createDisk(sizeMB: Int, cloudProperties: JSONValue, vmCID: String?) async throws(CPIError) -> String {
        try string(
            try await call("create_disk", [.int(sizeMB), cloudProperties, vmCID.map(JSONValue.string) ?? .null]),
            method: "create_disk")
    }

    public func deleteDisk(_ diskCID: String) async throws(CPIError) { _ = try await call("delete_disk", [.string(diskCID)]) }

    public func attachDisk(vmCID: String, diskCID: String) async throws(CPIError) -> JSONValue {
        let hint = try await call("attach_disk", [.string(vmCID), .string(diskCID)])
        if hint == .null || hint == "" { throw CPIError(.invalidResponse, "'attach_disk' returned no disk hint") }
        return hint
    }

    public func detachDisk(vmCID: String, diskCID: String) async throws(CPIError) {
        _ = try await call("detach_disk", [.string(vmCID), .string(diskCID)])
    }

    public func hasDisk(_ diskCID: String) async throws(CPIError) -> Bool {
        try bool(try await call("has_disk", [.string(diskCID)]), method: "has_disk")
    }

    public func getDisks(vmCID: String) async throws(CPIError) -> [String] {
        guard case .array(let items) = try await call("get_disks", [.string(vmCID)]) else {
            throw CPIError(.invalidResponse, "'get_disks' did not return a list")
        }
        return try items.map { (item) throws(CPIError) in try string(item, method: "get_disks") }
    }

    public func setDiskMetadata(_ diskCID: String, _ metadata: [String: String]) async throws(CPIError) {
        _ = try await call("set_disk_metadata", [.string(diskCID), .object(metadata.mapValues(JSONValue.string))])
    }

    public func resizeDisk(_ diskCID: String, newSizeMB: Int) async throws(CPIError) {
        _ = try await call("resize_disk", [.string(diskCID), .int(newSizeMB)])
    }

    public func calculateVMCloudProperties(cpu: Int, ramMB: Int, ephemeralDiskMB: Int) async throws(CPIError) -> JSONValue {
        try await call(
            "calculate_vm_cloud_properties", [["cpu": .int(cpu), "ram": .int(ramMB), "ephemeral_disk_size": .int(ephemeralDiskMB)]])
    }

    private func string(_ value: JSONValue, method: String) throws(CPIError) -> String {
        guard case .string(let text) = value else { throw CPIError(.invalidResponse, "'\(method)' did not return a string") }
        return text
    }

    private func bool(_ value: JSONValue, method: String) throws(CPIError) -> Bool {
        guard case .bool(let flag) = value else { throw CPIError(.invalidResponse, "'\(method)' did not return true or false") }
        return flag
    }

    private func decode<T: Decodable>(_ value: JSONValue, as type: T.Type, method: String) throws(CPIError) -> T {
        do {
            return try value.decode(as: T.self)
        } catch {
            throw CPIError(.invalidResponse, "'\(method)' returned an unexpected shape: \(error)")
        }
    }
}
