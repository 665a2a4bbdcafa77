import BosunCore
import CPI
import Foundation
import Synchronization

/// The time one task spends waiting on others — the CPI, agents, the template renderer — kept as
/// intervals, so the director's own share of a deploy can be measured: the wall time during which
/// nothing external was in flight.
public final class ExternalTimeLedger: Sendable {
    private struct Interval {
        var kind: String
        var start: UInt64
        var end: UInt64
    }

    private let intervals = Mutex<[Interval]>([])
    private let created = DispatchTime.now().uptimeNanoseconds

    public init() {}

    public func measure<T, E: Error>(_ kind: String, _ body: () async throws(E) -> T) async throws(E) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let end = DispatchTime.now().uptimeNanoseconds
            intervals.withLock { $0.append(Interval(kind: kind, start: start, end: end)) }
        }
        return try await body()
    }

    public struct Summary: Sendable {
        /// Seconds per kind, summed over calls (parallel calls add up).
        public var sums: [String: Double]
        /// Seconds during which at least one external call was in flight.
        public var busy: Double
        /// Seconds since the ledger was made.
        public var wall: Double

        /// What the director spent on its own: wall time with nothing external in flight.
        public var ownSeconds: Double { max(0, wall - busy) }
    }

    public func summary() -> Summary {
        let all = intervals.withLock { $0 }.sorted { $0.start < $1.start }
        var sums: [String: Double] = [:]
        for interval in all { sums[interval.kind, default: 0] += Double(interval.end - interval.start) / 1e9 }
        var busy: UInt64 = 0
        var current: (UInt64, UInt64)?
        for interval in all {
            if let (start, end) = current, interval.start <= end {
                current = (start, max(end, interval.end))
            } else {
                if let (start, end) = current { busy += end - start }
                current = (interval.start, interval.end)
            }
        }
        if let (start, end) = current { busy += end - start }
        return Summary(sums: sums, busy: Double(busy) / 1e9, wall: Double(DispatchTime.now().uptimeNanoseconds - created) / 1e9)
    }
}

/// A CPI whose every call is timed into a task's ledger.
struct TimedCloudProvider: CloudProvider {
    let base: any CloudProvider
    let ledger: ExternalTimeLedger

    func info() async throws(CPIError) -> CPIInfo { try await ledger.measure("cpi") { () async throws(CPIError) in try await base.info() } }
    func createStemcell(imagePath: String, cloudProperties: JSONValue) async throws(CPIError) -> String {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.createStemcell(imagePath: imagePath, cloudProperties: cloudProperties) }
    }
    func deleteStemcell(_ stemcellCID: String) async throws(CPIError) {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.deleteStemcell(stemcellCID) }
    }
    func createVM(
        agentID: String, stemcellCID: String, cloudProperties: JSONValue, networks: JSONValue, diskCIDs: [String], env: JSONValue
    ) async throws(CPIError) -> (vmCID: String, networks: JSONValue) {
        try await ledger.measure("cpi") { () async throws(CPIError) in
            try await base.createVM(
                agentID: agentID, stemcellCID: stemcellCID, cloudProperties: cloudProperties, networks: networks, diskCIDs: diskCIDs, env: env)
        }
    }
    func deleteVM(_ vmCID: String) async throws(CPIError) { try await ledger.measure("cpi") { () async throws(CPIError) in try await base.deleteVM(vmCID) } }
    func findVMs(agentID: String) async throws(CPIError) -> [String] {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.findVMs(agentID: agentID) }
    }
    func listVMs() async throws(CPIError) -> [ListedVM] {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.listVMs() }
    }
    func moveAddress(from sourceVMCID: String, to targetVMCID: String, networks: JSONValue) async throws(CPIError) -> JSONValue {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.moveAddress(from: sourceVMCID, to: targetVMCID, networks: networks) }
    }
    func hasVM(_ vmCID: String) async throws(CPIError) -> Bool { try await ledger.measure("cpi") { () async throws(CPIError) in try await base.hasVM(vmCID) } }
    func rebootVM(_ vmCID: String) async throws(CPIError) { try await ledger.measure("cpi") { () async throws(CPIError) in try await base.rebootVM(vmCID) } }
    func setVMMetadata(_ vmCID: String, _ metadata: [String: String]) async throws(CPIError) {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.setVMMetadata(vmCID, metadata) }
    }
    func createDisk(sizeMB: Int, cloudProperties: JSONValue, vmCID: String?) async throws(CPIError) -> String {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.createDisk(sizeMB: sizeMB, cloudProperties: cloudProperties, vmCID: vmCID) }
    }
    func deleteDisk(_ diskCID: String) async throws(CPIError) { try await ledger.measure("cpi") { () async throws(CPIError) in try await base.deleteDisk(diskCID) } }
    func attachDisk(vmCID: String, diskCID: String) async throws(CPIError) -> JSONValue {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.attachDisk(vmCID: vmCID, diskCID: diskCID) }
    }
    func detachDisk(vmCID: String, diskCID: String) async throws(CPIError) {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.detachDisk(vmCID: vmCID, diskCID: diskCID) }
    }
    func hasDisk(_ diskCID: String) async throws(CPIError) -> Bool { try await ledger.measure("cpi") { () async throws(CPIError) in try await base.hasDisk(diskCID) } }
    func getDisks(vmCID: String) async throws(CPIError) -> [String] {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.getDisks(vmCID: vmCID) }
    }
    func setDiskMetadata(_ diskCID: String, _ metadata: [String: String]) async throws(CPIError) {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.setDiskMetadata(diskCID, metadata) }
    }
    func resizeDisk(_ diskCID: String, newSizeMB: Int) async throws(CPIError) {
        try await ledger.measure("cpi") { () async throws(CPIError) in try await base.resizeDisk(diskCID, newSizeMB: newSizeMB) }
    }
    func calculateVMCloudProperties(cpu: Int, ramMB: Int, ephemeralDiskMB: Int) async throws(CPIError) -> JSONValue {
        try await ledger.measure("cpi") { () async throws(CPIError) in
            try await base.calculateVMCloudProperties(cpu: cpu, ramMB: ramMB, ephemeralDiskMB: ephemeralDiskMB)
        }
    }
}
