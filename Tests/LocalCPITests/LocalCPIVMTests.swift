import BosunCore
import Foundation
import TestSupport
import Testing

@testable import CPI
@testable import LocalCPI

/// Real containers (runc), namespaces, veths and loop devices; needs root, as CI is.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: getuid() == 0, "needs root"))
struct LocalCPIVMTests {
    @Test(arguments: ["runc", "crun"])
    func vmBootsReachableAndVMsSeeEachOther(runtime: String) async throws {
        let bed = try await LocalCPITestbed(runtime: runtime)
        do {
            let vm1 = try await bed.createVM(host: 10)
            let vm2 = try await bed.createVM(host: 11)
            try await bed.waitUntildReadyBoth(vm1, vm2)
            #expect(try await bed.cpi.hasVM(vm1))
            // Reachable from the host over the bridge…
            var reachable = false
            for _ in 0..<100 where !reachable {
                reachable = canConnect(to: "\(bed.subnet).10", port: 8080)
                if !reachable { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(reachable)
            // …and from the other VM.
            let fetch = await bed.exec(vm2, "/usr/bin/python3 -c \"import urllib.request;print(urllib.request.urlopen('http://\(bed.subnet).10:8080/ready').status)\"")
            #expect(fetch.output.contains("200"), "\(fetch.output)")
            // Own hostname, no route off the bridge.
            #expect(await bed.exec(vm1, "hostname").output.trimmingCharacters(in: .whitespacesAndNewlines) == vm1)
            let routes = await bed.exec(vm1, "ip route")
            #expect(!routes.output.contains("default"), "\(routes.output)")
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }

    @Test func diskMovesBetweenRunningVMsUnchanged() async throws {
        let bed = try await LocalCPITestbed()
        do {
            let vm1 = try await bed.createVM(host: 20)
            let vm2 = try await bed.createVM(host: 21)
            try await bed.waitUntildReadyBoth(vm1, vm2)
            let disk = try await bed.cpi.createDisk(sizeMB: 64, cloudProperties: [:], vmCID: nil)
            let hint = try await bed.cpi.attachDisk(vmCID: vm1, diskCID: disk)
            guard case .string(let device) = hint else { throw TestbedError("hint \(hint)") }
            #expect(try await bed.cpi.getDisks(vmCID: vm1) == [disk])
            let write = await bed.exec(vm1, "mkfs.ext4 -q \(device) && mount \(device) /var/vcap/store && head -c 1048576 /dev/urandom > /var/vcap/store/data && sha256sum /var/vcap/store/data")
            #expect(write.status == 0, "\(write.output)")
            // Attached to one VM: cannot go to another, cannot be deleted, cannot detach while mounted.
            await #expect(throws: CPIError.self) { _ = try await bed.cpi.attachDisk(vmCID: vm2, diskCID: disk) }
            await #expect(throws: CPIError.self) { try await bed.cpi.deleteDisk(disk) }
            await #expect {
                try await bed.cpi.detachDisk(vmCID: vm1, diskCID: disk)
            } throws: { error in
                (error as? CPIError)?.message.contains("still mounted at /var/vcap/store") == true
            }
            #expect(await bed.exec(vm1, "umount /var/vcap/store").status == 0)
            try await bed.cpi.detachDisk(vmCID: vm1, diskCID: disk)
            let device2 = try await bed.cpi.attachDisk(vmCID: vm2, diskCID: disk).stringValue!
            let read = await bed.exec(vm2, "mount \(device2) /var/vcap/store && sha256sum /var/vcap/store/data && umount /var/vcap/store")
            let checksum = { (text: String) in text.split(separator: " ").first.map(String.init) }
            #expect(checksum(read.output) == checksum(write.output.split(separator: "\n").last.map(String.init) ?? ""), "\(read.output)")
            try await bed.cpi.detachDisk(vmCID: vm2, diskCID: disk)
            try await bed.cpi.deleteDisk(disk)
            #expect(try await !bed.cpi.hasDisk(disk))
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }

    @Test func memoryLimitAndTmpfsSizeHold() async throws {
        let bed = try await LocalCPITestbed()
        do {
            let vm = try await bed.createVM(host: 30, ramMB: 128)
            try await bed.waitUntilReady(vm)
            let hog = await bed.exec(vm, "/usr/bin/python3 -c 'b = bytearray(400 * 1024 * 1024); print(len(b))'")
            #expect(hog.status != 0, "allocating 400 MB under a 128 MB limit succeeded: \(hog.output)")
            let fill = await bed.exec(vm, "dd if=/dev/zero of=/tmp/fill bs=1M count=80 2>&1; rm -f /tmp/fill")
            #expect(fill.output.contains("No space left on device"), "\(fill.output)")
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }

    @Test func deleteVMLeavesNothingBehind() async throws {
        let bed = try await LocalCPITestbed()
        do {
            let vm = try await bed.createVM(host: 40)
            try await bed.waitUntilReady(vm)
            let disk = try await bed.cpi.createDisk(sizeMB: 16, cloudProperties: [:], vmCID: vm)
            _ = try await bed.cpi.attachDisk(vmCID: vm, diskCID: disk)
            let pid = try await bed.cpi.containerPID(vm)
            try await bed.cpi.deleteVM(vm)
            #expect(try await !bed.cpi.hasVM(vm))
            #expect(isGoneOrZombie(pid))  // PID 1 of this host reaps late; a zombie no longer runs
            #expect(!(await bed.runCapturing("/usr/sbin/ip", ["netns", "list"])).output.contains(vm))
            #expect(!(await bed.runCapturing("/usr/sbin/ip", ["link", "show"])).output.contains("bv" + vm.dropFirst(3)))
            #expect((await bed.runCapturing("/usr/sbin/losetup", ["-j", bed.cpi.paths.diskImage(disk)])).output.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: bed.cpi.paths.vm(vm)))
            #expect(try await bed.cpi.getDisks(vmCID: vm).isEmpty)
            // Deleting again, or a VM that never existed, succeeds.
            try await bed.cpi.deleteVM(vm)
            try await bed.cpi.deleteVM("vm-000000000000")
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }

    @Test func badInputChangesNothing() async throws {
        let bed = try await LocalCPITestbed()
        do {
            let before = try FileManager.default.contentsOfDirectory(atPath: bed.cpi.paths.vms)
            await #expect {
                _ = try await bed.cpi.createVM(
                    agentID: "a", stemcellCID: "sc-missing", cloudProperties: [:], networks: bed.networks(50), diskCIDs: [], env: [:])
            } throws: { error in (error as? CPIError)?.message == "stemcell 'sc-missing' does not exist" }
            await #expect(throws: CPIError.self) {
                _ = try await bed.cpi.createVM(
                    agentID: "a", stemcellCID: bed.stemcellCID, cloudProperties: [:], networks: ["n": ["type": "dynamic"]],
                    diskCIDs: [], env: [:])
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: bed.cpi.paths.vms) == before)
            await #expect(throws: CPIError.self) { _ = try await bed.cpi.attachDisk(vmCID: "vm-nope", diskCID: "disk-nope") }
            let handler = CPIRequestHandler(provider: bed.cpi)
            let unknown = await handler.handle(Data(#"{"method":"frobnicate","arguments":[],"context":{}}"#.utf8))
            #expect(unknown.error?.type == "Bosh::Clouds::NotImplemented")
            let malformed = await handler.handle(Data("not json".utf8))
            #expect(malformed.error?.type == "Bosh::Clouds::CpiError")
            let badArgument = await handler.handle(Data(#"{"method":"create_disk","arguments":["big",{},null],"context":{}}"#.utf8))
            #expect(badArgument.error?.message == "create_disk: argument 0 (size) must be a non-negative integer")
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }
}

extension LocalCPITestbed {
    func waitUntildReadyBoth(_ a: String, _ b: String) async throws {
        try await waitUntilReady(a)
        try await waitUntilReady(b)
    }
}

/// True when the process no longer runs: no /proc entry, or only a zombie waiting to be reaped.
func isGoneOrZombie(_ pid: Int) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

@Suite(.serialized, .timeLimit(.minutes(1)), .enabled(if: getuid() == 0, "needs root"))
struct LocalCPIProtocolTests {
    /// The built `bosun-local-cpi` executable, driven the way the director drives any CPI.
    static let executable = BuiltProduct.path("bosun-local-cpi")

    @Test func infoAndDisksThroughTheExecutable() async throws {
        let bed = try await LocalCPITestbed()
        do {
            let config = bed.directory + "/config.yml"
            try "work_dir: \(bed.cpi.configuration.workDirectory)\nbridge: \(bed.bridge)\nagent_path: \(bed.cpi.configuration.agentPath)\nmax_vms: 7\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
            let cpi = ExternalCPI(executable: Self.executable, arguments: ["-configPath", config], directorUUID: "d")
            let info = try await cpi.info()
            #expect(info.apiVersion == 2)
            #expect(info.stemcellFormats == ["bosun-local"])
            #expect(info.capacity?.maxVMs == 7)
            #expect((info.capacity?.cpus ?? 0) > 0)
            let disk = try await cpi.createDisk(sizeMB: 8, cloudProperties: [:], vmCID: nil)
            #expect(try await cpi.hasDisk(disk))
            try await cpi.setDiskMetadata(disk, ["deployment": "greeter"])
            try await cpi.resizeDisk(disk, newSizeMB: 16)
            await #expect(throws: CPIError.self) { try await cpi.resizeDisk(disk, newSizeMB: 4) }
            try await cpi.deleteDisk(disk)
            #expect(try await !cpi.hasDisk(disk))
            await #expect {
                _ = try await cpi.call("snapshot_disk", [.string(disk), [:]])
            } throws: { error in (error as? CPIError)?.kind == .notImplemented }
            let badConfig = ExternalCPI(executable: Self.executable, arguments: ["-configPath", "/nonexistent.yml"], directorUUID: "d")
            await #expect {
                _ = try await badConfig.info()
            } throws: { error in (error as? CPIError)?.message.contains("cannot read local CPI config") == true }
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }

    @Test func hasVMIsTruthfulWhenTheContainerVanished() async throws {
        let bed = try await LocalCPITestbed()
        do {
            let vm = try await bed.createVM(host: 60)
            try await bed.waitUntilReady(vm)
            try await bed.cpi.setVMMetadata(vm, ["name": "greeter/0"])
            // The agent finds the director's settings where it reads them, readable by root only.
            let settingsPath = bed.cpi.paths.vm(vm) + "/vcap/bosh/settings.json"
            let settings = try JSONCoding.decoder.decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: settingsPath)))
            #expect(settings["agent_id"] == "agent-60")
            #expect(settings["mbus"] == "nats://10.0.0.1:4222")
            #expect(settings["networks"]?["default"]?["ip"] == .string("\(bed.subnet).60"))
            let mode = try FileManager.default.attributesOfItem(atPath: settingsPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // As after a host reboot: the runtime's state is gone, the CPI's files are not.
            await bed.cpi.stopContainer(vm)
            #expect(try await !bed.cpi.hasVM(vm))
            try await bed.cpi.rebootVM(vm)
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await bed.cpi.hasVM(vm))
            try await bed.cpi.deleteVM(vm)
        } catch {
            await bed.cleanup()
            throw error
        }
        await bed.cleanup()
    }
}
