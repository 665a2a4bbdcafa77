import Synchronization
import Testing

@testable import Director

/// BOSH's failure rule for a pool of updates: after the first failure nothing new starts, what
/// runs finishes, and the failure is what the caller sees.
struct ParallelRunTests {
    struct Boom: Error {}

    final class Journal: Sendable {
        let events = Mutex<[String]>([])
        func note(_ event: String) { events.withLock { $0.append(event) } }
        var all: [String] { events.withLock { $0 } }
    }

    @Test func theFirstFailureStopsQueuedItemsAndLetsRunningOnesFinish() async throws {
        let journal = Journal()
        await #expect(throws: Boom.self) {
            try await ParallelRun.forEach(Array(0..<6), limit: 2) { _, item in
                journal.note("start \(item)")
                if item == 0 {
                    try await Task.sleep(for: .milliseconds(20))
                    throw Boom()
                }
                try await Task.sleep(for: .milliseconds(200))
                journal.note("end \(item)")
            }
        }
        let events = journal.all
        #expect(events.contains("start 0") && events.contains("start 1"))
        #expect(events.contains("end 1"), "the item in flight finished: \(events)")
        #expect(!events.contains("start 2") && !events.contains("start 5"), "nothing started after the failure: \(events)")
    }

    final class Gauge: Sendable {
        let state = Mutex((running: 0, peak: 0))
        func enter() { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) } }
        func leave() { state.withLock { $0.running -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
    }

    @Test func neverMoreThanTheLimitAtOnce() async throws {
        let gauge = Gauge()
        try await ParallelRun.forEach(Array(0..<10), limit: 3) { _, _ in
            gauge.enter()
            try await Task.sleep(for: .milliseconds(10))
            gauge.leave()
        }
        #expect(gauge.peak == 3)
    }
}
