import NIOCore
import Synchronization

/// Coalesces outbound operations: callers on any thread append encoded bytes to one buffer, and a
/// single event-loop task writes and flushes whatever accumulated. Under load this turns thousands
/// of publishes into a few large writes.
final class OutboundWriter: Sendable {
    private struct State {
        var buffer: ByteBuffer
        var flushScheduled = false
    }

    private let state: Mutex<State>
    private let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
        self.state = Mutex(State(buffer: channel.allocator.buffer(capacity: 64 * 1024)))
    }

    /// Bytes waiting to be written, for back-pressure.
    var pendingBytes: Int { state.withLock { $0.buffer.readableBytes } }

    func enqueue(_ operation: ClientOperation) {
        let schedule = state.withLock { state -> Bool in
            operation.encode(into: &state.buffer)
            if state.flushScheduled { return false }
            state.flushScheduled = true
            return true
        }
        if schedule {
            channel.eventLoop.execute { self.flushNow() }
        }
    }

    /// Appends raw, already encoded bytes (the reconnect buffer).
    func enqueue(encoded bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        let schedule = state.withLock { state -> Bool in
            var bytes = bytes
            state.buffer.writeBuffer(&bytes)
            if state.flushScheduled { return false }
            state.flushScheduled = true
            return true
        }
        if schedule {
            channel.eventLoop.execute { self.flushNow() }
        }
    }

    /// Writes everything buffered. Must run on the channel's event loop.
    func flushNow() {
        channel.eventLoop.preconditionInEventLoop()
        let bytes = state.withLock { state -> ByteBuffer? in
            state.flushScheduled = false
            guard state.buffer.readableBytes > 0 else { return nil }
            let bytes = state.buffer
            state.buffer = channel.allocator.buffer(capacity: max(64 * 1024, bytes.readableBytes))
            return bytes
        }
        if let bytes {
            channel.writeAndFlush(bytes, promise: nil)
        }
    }
}
