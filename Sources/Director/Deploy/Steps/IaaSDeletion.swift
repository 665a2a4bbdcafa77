import CPI

extension TaskContext {
    /// Deletes a VM through the CPI; one the IaaS no longer has counts as deleted (retries and
    /// clean-ups must not fail on what an earlier attempt already did).
    func deleteVMIfPresent(_ cid: String) async throws(CPIError) {
        do {
            try await cpi.deleteVM(cid)
        } catch {
            guard error.kind == .vmNotFound else { throw error }
            events.debug("VM \(cid) was already gone")
        }
    }

    /// Deletes a disk through the CPI; one the IaaS no longer has counts as deleted.
    func deleteDiskIfPresent(_ cid: String) async throws(CPIError) {
        do {
            try await cpi.deleteDisk(cid)
        } catch {
            guard error.kind == .diskNotFound else { throw error }
            events.debug("Disk \(cid) was already gone")
        }
    }
}
