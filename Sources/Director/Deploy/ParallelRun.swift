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
