import BosunCore
import Foundation

/// The compilation VMs of one deploy (cloud config `compilation`): at most `workers` at once,
/// created on demand, handed to one package at a time, and reused when `reuse_compilation_vms`
/// is set (otherwise deleted after each package). All are deleted when the stage ends.
actor CompilationWorkers {
    let steps: VMSteps
    let maximum: Int
    let reuse: Bool
    let makeVM: @Sendable (Int) async throws -> VMSteps.CreatedVM
    private var idle: [VMSteps.CreatedVM] = []
    private var alive = 0
    private var serial = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(steps: VMSteps, maximum: Int, reuse: Bool, makeVM: @escaping @Sendable (Int) async throws -> VMSteps.CreatedVM) {
        self.steps = steps
        self.maximum = max(1, maximum)
        self.reuse = reuse
        self.makeVM = makeVM
    }

    /// A VM for one compilation; waits while all workers are busy.
    func acquire() async throws -> VMSteps.CreatedVM {
        while true {
            if let vm = idle.popLast() { return vm }
            if alive < maximum {
                alive += 1
                serial += 1
                do {
                    return try await makeVM(serial)
                } catch {
                    alive -= 1
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    /// Gives a VM back; a VM whose compilation failed is deleted rather than reused.
    func release(_ vm: VMSteps.CreatedVM, healthy: Bool) async {
        if reuse && healthy {
            idle.append(vm)
        } else {
            alive -= 1
            try? await steps.delete(vm.record)
        }
        wakeOne()
    }

    /// Deletes every idle VM (all are idle once the stage's tasks are done).
    func deleteAll() async {
        let vms = idle
        idle = []
        alive -= vms.count
        for vm in vms { try? await steps.delete(vm.record) }
    }

    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }
}
