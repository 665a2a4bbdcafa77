/// The filesystem layout the agent keeps (reference §7.7), rooted at `/var/vcap` on a VM. Tests and
/// tools may root it elsewhere.
public struct AgentPaths: Sendable, Equatable {
    public var root: String

    /// Where the VM's own system files are: `/` on a VM; beside the root (`<root>/host`) when the
    /// agent runs with a private root, so a test never writes the machine's `/etc/hosts`.
    public var hostRoot: String

    public init(root: String = "/var/vcap") {
        self.root = root
        hostRoot = root == "/var/vcap" ? "" : root + "/host"
    }

    public var etcHosts: String { hostRoot + "/etc/hosts" }
    public var systemLog: String { hostRoot + "/var/log" }
    public var dnsRecords: String { instance + "/dns/records.json" }

    public var bosh: String { root + "/bosh" }
    public var settings: String { bosh + "/settings.json" }
    public var spec: String { bosh + "/spec.json" }
    public var log: String { bosh + "/log" }
    /// Where the agent keeps its own settings copies and NATS credentials (tmpfs when asked).
    public var settingsDirectory: String { bosh + "/settings" }
    public var data: String { root + "/data" }
    public var dataJobs: String { data + "/jobs" }
    public var dataPackages: String { data + "/packages" }
    public var sensitiveBlobs: String { data + "/sensitive_blobs" }
    public var sys: String { data + "/sys" }
    public var sysLog: String { sys + "/log" }
    public var sysRun: String { sys + "/run" }
    public var jobs: String { root + "/jobs" }
    public var packages: String { root + "/packages" }
    public var store: String { root + "/store" }
    public var monit: String { root + "/monit" }
    /// Written by `stop`, removed by `start`: jobs stopped on purpose stay stopped across a reboot.
    public var stoppedMarker: String { monit + "/stopped" }
    public var instance: String { root + "/instance" }

    func job(_ name: String) -> String { jobs + "/" + name }
    func jobLog(_ name: String) -> String { sysLog + "/" + name }
}
