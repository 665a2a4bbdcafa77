/// Messages for one subscription, as an `AsyncSequence`. Ends when unsubscribed, when the client
/// shuts down, or with an error when the server refuses it (a permissions violation).
///
/// The buffer is bounded (`subscriptionBufferSize`): a consumer that falls behind loses the newest
/// messages, and `droppedMessages` counts them.
public struct NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage

    public let subject: String
    public let queue: String?
    let sid: UInt64
    let stream: AsyncThrowingStream<NATSMessage, any Error>
    let counters: SubscriptionCounters

    /// Messages dropped because the consumer was too slow.
    public var droppedMessages: Int { counters.dropped }

    public func makeAsyncIterator() -> AsyncThrowingStream<NATSMessage, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

/// Counts a subscription's slow-consumer drops.
final class SubscriptionCounters: Sendable {
    private let droppedCount = Atomic<Int>(0)

    var dropped: Int { droppedCount.load(ordering: .relaxed) }

    func recordDrop() { droppedCount.add(1, ordering: .relaxed) }
}

import Synchronization
