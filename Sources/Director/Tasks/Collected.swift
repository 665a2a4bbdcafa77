import Synchronization

/// A value that parallel steps of one task add to (results, measured downtimes), owned by its
/// mutex; read once they are done.
final class Collected<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ initial: Value) { storage = Mutex(initial) }

    func update(_ change: (inout Value) -> Void) { storage.withLock { change(&$0) } }

    var value: Value { storage.withLock { $0 } }
}

/// Named laps of one sequence of steps, for a debug line that says where the time went.
struct StepTimer {
    private var last = ContinuousClock.now
    private var laps: [(String, Duration)] = []

    mutating func lap(_ name: String) {
        let now = ContinuousClock.now
        laps.append((name, now - last))
        last = now
    }

    var summary: String {
        laps.map { String(format: "%@ %.3f s", $0.0, Double($0.1.components.attoseconds) / 1e18 + Double($0.1.components.seconds)) }
            .joined(separator: ", ")
    }
}
