import BosunCore

/// Bounded parallel work with BOSH's failure rule.
enum ParallelRun {
    /// Runs `body` for each item with at most `limit` at once; after the first failure no new
    /// item starts, the running ones finish, and the failure is rethrown.
    static func forEach<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (Int, T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            var failure: (any Error)?
            while next < min(limit, items.count) {
                let position = next
                group.addTask { try await body(position, items[position]) }
                next += 1
            }
            while true {
                do {
                    guard try await group.next() != nil else { break }
                } catch {
                    if failure == nil { failure = error }
                }
                if failure == nil && next < items.count {
                    let position = next
                    group.addTask { try await body(position, items[position]) }
                    next += 1
                }
            }
            if let failure { throw failure }
        }
    }
}

extension ParallelRun {
    /// One instance group's items in the update policy's order (`UpdateSchedule`): batch after
    /// batch, canaries with the canary watch time then the rest, each phase at most `limit` at
    /// once (the batch's `max_in_flight` unless narrowed). `body` gets the item, its position
    /// among all of them (from 1), whether it is a canary, and its watch time.
    static func inPolicyOrder<T: Sendable>(
        _ items: [T], item: (T) -> UpdateSchedule.Item, policy: UpdatePolicy, overrides: UpdateStage.Overrides, allZonesAtOnce: Bool,
        limit: ([T], Int) -> Int = { _, maxInFlight in maxInFlight },
        _ body: @escaping @Sendable (T, _ position: Int, _ canary: Bool, _ watch: WatchTime) async throws -> Void
    ) async throws {
        let batches = UpdateSchedule.batches(
            items, item: item, canaries: overrides.canaries ?? policy.canaries, maxInFlight: overrides.maxInFlight ?? policy.maxInFlight,
            allZonesAtOnce: allZonesAtOnce)
        var done = 0
        for batch in batches {
            for (phase, canary) in [(batch.canaries, true), (batch.rest, false)] where !phase.isEmpty {
                let start = done
                done += phase.count
                let watch = canary ? policy.canaryWatchTime : policy.updateWatchTime
                try await forEach(phase, limit: limit(phase, batch.maxInFlight)) { offset, element in
                    try await body(element, start + offset + 1, canary, watch)
                }
            }
        }
    }
}
