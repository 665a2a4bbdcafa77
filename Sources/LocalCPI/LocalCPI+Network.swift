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

    static func parse(_ networks: JSONValue, method: String = "create_vm") throws(CPIError) -> VMNetwork {
        guard case .object(let all) = networks, !all.isEmpty else {
            throw CPIError(.vmCreationFailed, "\(method): networks must name one manual network")
        }
        guard all.count == 1, let (name, settings) = all.first else {
            throw CPIError(.vmCreationFailed, "\(method): the local CPI supports one network per VM, got \(all.keys.sorted())")
        }
        guard settings["type"]?.stringValue ?? "manual" == "manual" else {
            throw CPIError(.vmCreationFailed, "\(method): network '\(name)' is \(settings["type"]?.stringValue ?? "?"); the local CPI needs manual networks")
        }
        guard let ip = settings["ip"]?.stringValue, IPv4Address(ip) != nil else {
            throw CPIError(.vmCreationFailed, "\(method): network '\(name)' has no valid ip")
        }
        guard let netmask = settings["netmask"]?.stringValue, let mask = IPv4Address(netmask) else {
            throw CPIError(.vmCreationFailed, "\(method): network '\(name)' has no valid netmask")
        }
        let prefix = mask.value.nonzeroBitCount
        guard mask.value == (prefix == 0 ? 0 : UInt32.max << (32 - UInt32(prefix))) else {
            throw CPIError(.vmCreationFailed, "\(method): network '\(name)' netmask \(netmask) is not contiguous")
        }
        guard let gateway = settings["gateway"]?.stringValue, IPv4Address(gateway) != nil else {
            throw CPIError(.vmCreationFailed, "\(method): network '\(name)' has no valid gateway")
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

    /// A network namespace with `eth0` on the bridge, addressed, with no default route; secondary
    /// addresses are promoted when the primary goes (what `move_address` relies on). Returns
    /// eth0's MAC.
    func createNetworkNamespace(_ record: VMRecord) async throws(CPIError) -> String? {
        let ns = record.netns
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["netns", "add", ns])
        try await HostCommand.cpi(
            .vmCreationFailed, "/usr/sbin/ip", ["link", "add", record.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["link", "set", record.hostVeth, "master", configuration.bridgeName, "up"])
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["-n", ns, "link", "set", "lo", "up"])
        try await HostCommand.cpi(
            .vmCreationFailed, "/usr/sbin/ip", ["-n", ns, "addr", "add", "\(record.network.ip)/\(record.network.prefixLength)", "dev", "eth0"])
        try await HostCommand.cpi(.vmCreationFailed, "/usr/sbin/ip", ["-n", ns, "link", "set", "eth0", "up"])
        await HostCommand.bestEffort("/usr/sbin/ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.promote_secondaries=1"])
        return await macAddress(in: ns)
    }

    func macAddress(in netns: String) async -> String? {
        let link = (try? await HostCommand.run("/usr/sbin/ip", ["-n", netns, "-o", "link", "show", "dev", "eth0"])) ?? ""
        guard let range = link.range(of: "link/ether ") else { return nil }
        return String(link[range.upperBound...].prefix(17))
    }

    /// `move_address`: the address leaves the source VM (its sockets on it are cut) and replaces
    /// the target's own (whose sockets are cut too, so its agent reconnects from the new one);
    /// the host forgets both neighbours so the next packet finds the new VM. Repeatable.
    public func moveAddress(from sourceVMCID: String, to targetVMCID: String, networks: JSONValue) async throws(CPIError) -> JSONValue {
        guard configuration.movesAddresses else { throw CPIError(.notImplemented, "'move_address' is turned off in this local CPI's config") }
        let final = try VMNetwork.parse(networks, method: "move_address")
        try await paths.locked(addresses: true) { () throws(CPIError) in
            let targetFile = paths.vm(targetVMCID) + "/vm.json"
            guard var target = RecordFile.read(VMRecord.self, from: targetFile) else {
                throw CPIError(.vmNotFound, "move_address: VM '\(targetVMCID)' does not exist")
            }
            let sourceFile = paths.vm(sourceVMCID) + "/vm.json"
            if var source = RecordFile.read(VMRecord.self, from: sourceFile), source.network.ip == final.ip {
                await HostCommand.bestEffort("/usr/sbin/ip", ["-n", source.netns, "addr", "del", "\(final.ip)/\(source.network.prefixLength)", "dev", "eth0"])
                await cutConnections(in: source.netns, from: final.ip)
                source.network.ip = ""
                try RecordFile.write(source, to: sourceFile)
            }
            let previous = target.network.ip
            if previous != final.ip {
                // The new address joins as a secondary; deleting the old primary promotes it.
                if target.mac == nil {
                    await HostCommand.bestEffort(
                        "/usr/sbin/ip", ["netns", "exec", target.netns, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.promote_secondaries=1"])
                }
                try await HostCommand.cpi(
                    .cloudError, "/usr/sbin/ip", ["-n", target.netns, "addr", "replace", "\(final.ip)/\(final.prefixLength)", "dev", "eth0"])
                // The host learns the new owner before anything reconnects (else its answers go to
                // the old VM's MAC until the neighbour entry ages out).
                await pointNeighbour(final.ip, to: target)
                if !previous.isEmpty {
                    await HostCommand.bestEffort("/usr/sbin/ip", ["-n", target.netns, "addr", "del", "\(previous)/\(target.network.prefixLength)", "dev", "eth0"])
                    await HostCommand.bestEffort("/usr/sbin/ip", ["neigh", "del", previous, "dev", configuration.bridgeName])
                    await cutConnections(in: target.netns, from: previous)
                }
                target.network = final
                try RecordFile.write(target, to: targetFile)
                Self.renameHost(target.cid, to: final.ip, in: paths.vm(targetVMCID) + "/etc/hosts")
            } else {
                await pointNeighbour(final.ip, to: target)
            }
        }
        return networks
    }

    /// Sets the host's neighbour entry for `address` to the VM's eth0 MAC.
    private func pointNeighbour(_ address: String, to vm: VMRecord) async {
        var mac = vm.mac
        if mac == nil { mac = await macAddress(in: vm.netns) }
        guard let mac else {
            await HostCommand.bestEffort("/usr/sbin/ip", ["neigh", "del", address, "dev", configuration.bridgeName])
            return
        }
        await HostCommand.bestEffort("/usr/sbin/ip", ["neigh", "replace", address, "lladdr", mac, "dev", configuration.bridgeName, "nud", "reachable"])
    }

    /// Aborts the TCP sockets bound to `address` in a namespace (an address that left keeps its
    /// sockets half-alive otherwise: they time out minutes later).
    private func cutConnections(in netns: String, from address: String) async {
        await HostCommand.bestEffort("/usr/sbin/ip", ["netns", "exec", netns, "/usr/bin/ss", "-K", "-t", "src", address])
    }

    func deleteNetworkNamespace(_ record: VMRecord) async {
        await HostCommand.bestEffort("/usr/sbin/ip", ["link", "del", record.hostVeth])
        await HostCommand.bestEffort("/usr/sbin/ip", ["netns", "del", record.netns])
    }

    /// Points the VM's own name at its new address in its `/etc/hosts`, leaving every other line
    /// (the agent's DNS records) alone. Written in place: the file is bind-mounted into the VM.
    static func renameHost(_ cid: String, to ip: String, in path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: " ").last.map(String.init) == cid ? "\(ip) \(cid)" : String(line)
        }
        try? Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
    }
}
