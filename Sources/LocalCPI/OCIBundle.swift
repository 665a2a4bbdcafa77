import BosunCore
import Foundation

/// Writes the OCI runtime `config.json` of one VM: a read-only skeleton root with the host's system
/// directories bound read-only, a private writable `/var/vcap`, tmpfs `/tmp`, per-VM identity files,
/// its own PID/IPC/UTS/mount namespaces, the network namespace the CPI prepared, cgroup limits, and
/// the agent as the main process.
struct OCIBundle {
    var name: String
    var skeleton: String
    var hostDirectories: [String]
    var vmDirectory: String
    var agentPath: String
    var netnsPath: String
    var memoryMB: Int?
    var cpus: Int?
    var tmpSizeMB: Int
    /// The agent's heartbeat interval, when not its default 30 s.
    var heartbeatSeconds: Double? = nil

    static let agentInVM = "/var/vcap/bosh/bin/bosun-agent"
    static let settingsInVM = "/var/vcap/bosh/settings.json"

    func configuration() -> JSONValue {
        var mounts: [JSONValue] = [
            ["destination": "/proc", "type": "proc", "source": "proc"],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]],
            ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
        ]
        for directory in hostDirectories {
            mounts.append(["destination": .string(directory), "type": "bind", "source": .string(directory), "options": ["rbind", "ro", "nosuid"]])
        }
        mounts.append(["destination": "/var/vcap", "type": "bind", "source": .string(vmDirectory + "/vcap"), "options": ["rbind", "rw"]])
        mounts.append(["destination": .string(Self.agentInVM), "type": "bind", "source": .string(agentPath), "options": ["bind", "ro"]])
        // /etc/hosts is the agent's to write (the DNS records of `sync_dns`), in place.
        for file in ["hosts", "hostname", "resolv.conf"] {
            mounts.append([
                "destination": .string("/etc/" + file), "type": "bind", "source": .string(vmDirectory + "/etc/" + file),
                "options": ["bind", file == "hosts" ? "rw" : "ro"],
            ])
        }
        mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", .string("size=\(tmpSizeMB)m")]])

        var resources: [String: JSONValue] = [
            "devices": [
                ["allow": false, "access": "rwm"],
                // Loop devices: the CPI exposes attached disks as block nodes inside the VM.
                ["allow": true, "type": "b", "major": 7, "access": "rwm"],
            ],
            "pids": ["limit": 4096],
        ]
        if let memoryMB {
            let bytes = JSONValue.int(memoryMB * 1024 * 1024)
            resources["memory"] = ["limit": bytes, "swap": bytes]
        }
        if let cpus {
            resources["cpu"] = ["quota": .int(cpus * 100_000), "period": 100_000]
        }
        let capabilities = JSONValue.array(Self.boundingCapabilities().map(JSONValue.string))
        return [
            "ociVersion": "1.0.2",
            "process": [
                "terminal": false,
                "user": ["uid": 0, "gid": 0],
                "args": .array(
                    [.string(Self.agentInVM), "--settings", .string(Self.settingsInVM)]
                        + (heartbeatSeconds.map { ["--heartbeat-seconds", .string(String($0))] } ?? [])),
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"],
                "cwd": "/",
                "capabilities": ["bounding": capabilities, "effective": capabilities, "permitted": capabilities, "ambient": capabilities],
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": .int(Self.fileLimit()), "soft": .int(Self.fileLimit())]],
                "noNewPrivileges": false,
            ],
            "root": ["path": .string(skeleton), "readonly": true],
            "hostname": .string(name),
            "mounts": .array(mounts),
            "linux": [
                "resources": .object(resources),
                "cgroupsPath": .string("/bosun/" + name),
                "namespaces": [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "network", "path": .string(netnsPath)]],
                "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
                "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ],
        ]
    }

    /// Every capability in our own bounding set: asking for more fails with EPERM in a container host
    /// that lacks some (reference G.6), asking for fewer would stop the agent from mounting disks.
    static func boundingCapabilities() -> [String] {
        let names = [
            "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
            "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
            "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
            "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
            "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
            "CHECKPOINT_RESTORE",
        ]
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
        let mask = line.flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) } ?? 0
        return names.enumerated().filter { mask >> UInt64($0.offset) & 1 == 1 }.map { "CAP_" + $0.element }
    }

    /// Our own hard limit on open files; asking a container for more fails without CAP_SYS_RESOURCE.
    static func fileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(min(limit.rlim_max, 1_048_576))
    }
}
