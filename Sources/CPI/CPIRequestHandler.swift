import BosunCore
import Foundation

/// The executable side of the protocol: reads one request, calls a `CloudProvider`, and produces
/// the response a director expects. Any Swift CPI (the local CPI first) runs through this.
public struct CPIRequestHandler: Sendable {
    public let provider: any CloudProvider

    public init(provider: any CloudProvider) { self.provider = provider }

    /// Handles raw standard-input bytes; never throws: every failure becomes a CPI error response.
    public func handle(_ input: Data) async -> CPIResponse {
        let request: CPIRequest
        do {
            request = try JSONCoding.decoder.decode(CPIRequest.self, from: input)
        } catch {
            return CPIResponse(
                result: nil, error: CPIError(.cpiError, "Invalid request: expected a JSON object with method, arguments and context").body,
                log: "")
        }
        do {
            let result = try await dispatch(request)
            return CPIResponse(result: result, error: nil, log: "")
        } catch {
            return CPIResponse(result: nil, error: error.body, log: "")
        }
    }

    func dispatch(_ request: CPIRequest) async throws(CPIError) -> JSONValue {
        let args = Arguments(method: request.method, values: request.arguments)
        let p = provider
        switch request.method {
        case "info":
            do {
                return try JSONValue(encoding: try await p.info())
            } catch let error as CPIError {
                throw error
            } catch {
                throw CPIError(.cpiError, "encoding info: \(error)")
            }
        case "create_stemcell":
            return .string(try await p.createStemcell(imagePath: try args.string(0, "image_path"), cloudProperties: args.any(1)))
        case "delete_stemcell":
            try await p.deleteStemcell(try args.string(0, "stemcell_cid"))
        case "create_vm":
            let (cid, networks) = try await p.createVM(
                agentID: try args.string(0, "agent_id"), stemcellCID: try args.string(1, "stemcell_cid"),
                cloudProperties: args.any(2), networks: args.any(3), diskCIDs: try args.strings(4, "disk_cids"),
                env: args.any(5))
            return [.string(cid), networks]
        case "delete_vm":
            try await p.deleteVM(try args.string(0, "vm_cid"))
        case "has_vm":
            return .bool(try await p.hasVM(try args.string(0, "vm_cid")))
        case "reboot_vm":
            try await p.rebootVM(try args.string(0, "vm_cid"))
        case "set_vm_metadata":
            try await p.setVMMetadata(try args.string(0, "vm_cid"), try args.metadata(1))
        case "create_disk":
            let vm = args.any(2)
            return .string(
                try await p.createDisk(
                    sizeMB: try args.int(0, "size"), cloudProperties: args.any(1), vmCID: vm.stringValue))
        case "delete_disk":
            try await p.deleteDisk(try args.string(0, "disk_cid"))
        case "attach_disk":
            return try await p.attachDisk(vmCID: try args.string(0, "vm_cid"), diskCID: try args.string(1, "disk_cid"))
        case "detach_disk":
            try await p.detachDisk(vmCID: try args.string(0, "vm_cid"), diskCID: try args.string(1, "disk_cid"))
        case "has_disk":
            return .bool(try await p.hasDisk(try args.string(0, "disk_cid")))
        case "get_disks":
            return .array(try await p.getDisks(vmCID: try args.string(0, "vm_cid")).map(JSONValue.string))
        case "set_disk_metadata":
            try await p.setDiskMetadata(try args.string(0, "disk_cid"), try args.metadata(1))
        case "resize_disk":
            try await p.resizeDisk(try args.string(0, "disk_cid"), newSizeMB: try args.int(1, "new_size"))
        case "calculate_vm_cloud_properties":
            let resources = args.any(0)
            guard case .int(let cpu)? = resources["cpu"], case .int(let ram)? = resources["ram"],
                case .int(let disk)? = resources["ephemeral_disk_size"]
            else {
                throw CPIError(.cpiError, "calculate_vm_cloud_properties: argument 0 must be {cpu, ram, ephemeral_disk_size} integers")
            }
            return try await p.calculateVMCloudProperties(cpu: cpu, ramMB: ram, ephemeralDiskMB: disk)
        case "move_address":
            return try await p.moveAddress(
                from: try args.string(0, "source_vm_cid"), to: try args.string(1, "target_vm_cid"), networks: args.any(2))
        case "find_vms_by_agent":
            return .array(try await p.findVMs(agentID: try args.string(0, "agent_id")).map(JSONValue.string))
        case "list_vms":
            return .array(try await p.listVMs().map { vm in
                ["vm_cid": .string(vm.vmCID), "agent_id": .string(vm.agentID), "groups": .array(vm.groups.map(JSONValue.string))]
            })
        case "snapshot_disk", "delete_snapshot", "update_disk", "create_network", "delete_network":
            throw CPIError(.notImplemented, "'\(request.method)' is not implemented by this CPI")
        default:
            throw CPIError(.notImplemented, "Method is not known, got '\(request.method)'")
        }
        return .null
    }

    /// Positional arguments with errors that name the method, position and meaning.
    struct Arguments {
        var method: String
        var values: [JSONValue]

        func any(_ index: Int) -> JSONValue { index < values.count ? values[index] : .null }

        func string(_ index: Int, _ name: String) throws(CPIError) -> String {
            guard case .string(let value) = any(index), !value.isEmpty else {
                throw CPIError(.cpiError, "\(method): argument \(index) (\(name)) must be a non-empty string")
            }
            return value
        }

        func int(_ index: Int, _ name: String) throws(CPIError) -> Int {
            guard case .int(let value) = any(index), value >= 0 else {
                throw CPIError(.cpiError, "\(method): argument \(index) (\(name)) must be a non-negative integer")
            }
            return value
        }

        func strings(_ index: Int, _ name: String) throws(CPIError) -> [String] {
            switch any(index) {
            case .null: return []
            case .array(let items):
                return try items.map { (item) throws(CPIError) -> String in
                    guard case .string(let value) = item else {
                        throw CPIError(.cpiError, "\(method): argument \(index) (\(name)) must be a list of strings")
                    }
                    return value
                }
            default: throw CPIError(.cpiError, "\(method): argument \(index) (\(name)) must be a list of strings")
            }
        }

        func metadata(_ index: Int) throws(CPIError) -> [String: String] {
            guard case .object(let object) = any(index) else {
                throw CPIError(.cpiError, "\(method): argument \(index) (metadata) must be a map")
            }
            return object.mapValues { value in
                switch value {
                case .string(let s): return s
                case .int(let i): return String(i)
                case .bool(let b): return b ? "true" : "false"
                default: return ""
                }
            }
        }
    }
}
