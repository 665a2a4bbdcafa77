import BosunCore

/// What an agent publishes every 30 s on `hm.agent.heartbeat.<agent_id>`.
public struct Heartbeat: Codable, Sendable, Equatable {
    public var deployment: String?
    /// The instance group name.
    public var job: String?
    public var index: Int?
    public var jobState: String
    public var vitals: Vitals?
    /// The instance id.
    public var nodeID: String?
    public var numberOfProcesses: Int?

    /// BOSH sends most vitals as strings.
    public struct Vitals: Codable, Sendable, Equatable {
        public var cpu: CPU
        public var disk: [String: DiskUsage]
        public var load: [String]
        public var mem: Usage
        public var swap: Usage
        public var uptime: Uptime?

        public struct CPU: Codable, Sendable, Equatable {
            public var sys: String
            public var user: String
            public var wait: String

            public init(sys: String, user: String, wait: String) {
                self.sys = sys
                self.user = user
                self.wait = wait
            }

            /// The Go bosh-agent leaves out what it could not measure (`omitempty`): "" then.
            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                sys = try container.decodeIfPresent(String.self, forKey: .sys) ?? ""
                user = try container.decodeIfPresent(String.self, forKey: .user) ?? ""
                wait = try container.decodeIfPresent(String.self, forKey: .wait) ?? ""
            }

            enum CodingKeys: String, CodingKey { case sys, user, wait }
        }

        public struct DiskUsage: Codable, Sendable, Equatable {
            public var percent: String
            public var inodePercent: String

            public init(percent: String, inodePercent: String) {
                self.percent = percent
                self.inodePercent = inodePercent
            }

            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                percent = try container.decodeIfPresent(String.self, forKey: .percent) ?? ""
                inodePercent = try container.decodeIfPresent(String.self, forKey: .inodePercent) ?? ""
            }

            enum CodingKeys: String, CodingKey {
                case percent
                case inodePercent = "inode_percent"
            }
        }

        public struct Usage: Codable, Sendable, Equatable {
            public var kb: String
            public var percent: String

            public init(kb: String, percent: String) {
                self.kb = kb
                self.percent = percent
            }

            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                kb = try container.decodeIfPresent(String.self, forKey: .kb) ?? ""
                percent = try container.decodeIfPresent(String.self, forKey: .percent) ?? ""
            }

            enum CodingKeys: String, CodingKey { case kb, percent }
        }

        public struct Uptime: Codable, Sendable, Equatable {
            public var secs: Int

            public init(secs: Int) { self.secs = secs }

            /// The Go agent omits `secs` when it is 0.
            public init(from decoder: any Decoder) throws {
                secs = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .secs) ?? 0
            }

            enum CodingKeys: String, CodingKey { case secs }
        }

        public init(cpu: CPU, disk: [String: DiskUsage], load: [String], mem: Usage, swap: Usage, uptime: Uptime?) {
            self.cpu = cpu
            self.disk = disk
            self.load = load
            self.mem = mem
            self.swap = swap
            self.uptime = uptime
        }

        /// What the Go bosh-agent omits when empty (`platform/vitals/vitals.go`: `disk` entries,
        /// `load`, `cpu`…) reads as empty, so its heartbeats count as heard, not as silence.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let empty = Usage(kb: "", percent: "")
            cpu = try container.decodeIfPresent(CPU.self, forKey: .cpu) ?? CPU(sys: "", user: "", wait: "")
            disk = try container.decodeIfPresent([String: DiskUsage].self, forKey: .disk) ?? [:]
            load = try container.decodeIfPresent([String].self, forKey: .load) ?? []
            mem = try container.decodeIfPresent(Usage.self, forKey: .mem) ?? empty
            swap = try container.decodeIfPresent(Usage.self, forKey: .swap) ?? empty
            uptime = try container.decodeIfPresent(Uptime.self, forKey: .uptime)
        }

        enum CodingKeys: String, CodingKey { case cpu, disk, load, mem, swap, uptime }
    }

    public init(
        deployment: String?, job: String?, index: Int?, jobState: String, vitals: Vitals?, nodeID: String?,
        numberOfProcesses: Int?
    ) {
        self.deployment = deployment
        self.job = job
        self.index = index
        self.jobState = jobState
        self.vitals = vitals
        self.nodeID = nodeID
        self.numberOfProcesses = numberOfProcesses
    }

    enum CodingKeys: String, CodingKey {
        case deployment, job, index, vitals
        case jobState = "job_state"
        case nodeID = "node_id"
        case numberOfProcesses = "number_of_processes"
    }
}

/// An alert on `hm.agent.alert.<agent_id>`.
public struct AgentAlert: Codable, Sendable, Equatable {
    public enum Severity: Int, Codable, Sendable {
        case alert = 1, critical = 2, error = 3, warning = 4
    }

    public var id: String
    public var severity: Severity
    /// `"<service> (<ips>) - <event> - <action>"`.
    public var title: String
    public var summary: String
    /// Unix seconds.
    public var createdAt: Int

    public init(id: String, severity: Severity, title: String, summary: String, createdAt: Int) {
        self.id = id
        self.severity = severity
        self.title = title
        self.summary = summary
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, severity, title, summary
        case createdAt = "created_at"
    }
}
