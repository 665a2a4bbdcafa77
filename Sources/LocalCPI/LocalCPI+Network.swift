import BosunCore
import CPI
import Foundation

/// The one manual network a local VM joins: address, prefix and gateway from `create_vm`'s networks.
struct VMNetwork: Codable, Equatable {
    var name: String
    var ip: String
    var prefixLength: Int
    var gateway: String

    enum CodingKeys: String, CodingKey {
        case name, ip, gateway
        case prefixLength = "prefix_length"
    }

    static func parse(_ networks: JSONValue) throws(CPIError) -> VMNetwork {
        guard case .object(let all) = networks, !all.isEmpty else {
            throw CPIError(.vmCreationFailed, "create_vm: networks must name one manual network")
        }
        guard all.count == 1, let (name, settings) = all.first else {
            throw CPIError(.vmCreationFailed, "create_vm: the local CPI supports one network per VM, got \(all.keys.sorted())")
        }
        guard settings["type"]?.stringValue ?? "manual" == "manual" else {
            throw CPIError(.vmCreationFailed, "create_vm: network '\(name)' is \(settings["type"]?.stringValue ?? "?"); the local CPI needs manual networks")
        }
        guard let ip = settings["ip"]?.stringValue, IPv4Address(ip) != nil else {
            throw CPIError(.vmCreationFailed, "create_vm: network '\(name)' has no valid ip")
        }
        guard let netmask = settings["netmask"]?.stringValue, let mask = IPv4Address(netmask) else {
            throw CPIError(.vmCreationFailed, "create_vm: network '\(name)' has no valid netmask")
        }
        let prefix = mask.value.nonzeroBitCount
        guard mask.value == (prefix == 0 ? 0 : UInt32.max << (32 - UInt32(prefix))) else {
            throw CPIError(.vmCreationFailed, "create_vm: network '\(name)' netmask \(netmask) is not contiguous")
        }
        guard let gateway = settings["gateway"]?.stringValue, IPv4Address(gateway) != nil else {
            throw CPIError(.vmCreationFailed, "create_vm: network '\(name)' has no valid gateway")
        }
        return VMNetwork(name: name, ip: ip, prefixLength: prefix, gateway: gateway)
    }
}

extension LocalCPI {
    /// Creates the bridge with the gateway address if missing. Nothing routes off it: no physical
    /// port, no forwarding, and VMs get no default route.
    func ensureBridge(gateway: String, prefixLength: Int) async throws(CPIError) {
        let bridge = configuration.bridgeName
        try await paths.locked { () throws(CPIError) in
            if (try? await HostCommand.run("/usr/sbin/ip", ["link", "show", "dev", bridge])) == nil {
                try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["link", "add", bridge, "type", "bridge"])
            }
            let addresses = (try? await HostCommand.run("/usr/sbin/ip", ["-o", "-4", "addr", "show", "dev", bridge])) ?? ""
            if !addresses.contains(" \(gateway)/") {
                try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["addr", "add", "\(gateway)/\(prefixLength)", "dev", bridge])
            }
            try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["link", "set", bridge, "up"])
        }
    }

    /// A network namespace with `eth0` on the bridge, addressed, with no default route.
    func createNetworkNamespace(_ record: VMRecord) async throws(CPIError) {
        let ns = record.netns
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["netns", "add", ns])
        try await HostCommand.cpi(
            .vmCreationFailed, "/usr/sbin/ip", ["link", "add", record.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["link", "set", record.hostVeth, "master", configuration.bridgeName, "up"])
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["-n", ns, "link", "set", "lo", "up"])
        try await HostCommand.cpi(
            .vmCreationFailed, "/usr/sbin/ip", ["-n", ns, "addr", "add", "\(record.network.ip)/\(record.network.prefixLength)", "dev", "eth0"])
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["-n", ns, "link", "set", "eth0", "up"])
    }

    func deleteNetworkNamespace(_ record: VMRecord) async {
        await HostCommand.bestEffort("/usr/sbin/ip", ["link", "del", record.hostVeth])
        await HostCommand.bestEffort("/usr/sbin/ip", ["netns", "del", record.netns])
    }
}
