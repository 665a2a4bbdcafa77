import NIOCore

extension NATSClient {
    /// The largest payload the server accepts (1 MiB until the server says otherwise).
    public var maxPayload: Int { state.withLock { $0.serverInfo?.maxPayload } ?? 1024 * 1024 }

    /// Publishes a message. While disconnected it is kept in the reconnect buffer.
    public func publish(_ payload: ByteBuffer, to subject: String, replyTo: String? = nil) throws(NATSClientError) {
        guard SubjectValidation.isValid(subject, allowWildcards: false) else {
            throw NATSClientError(.invalidSubject, "cannot publish to '\(subject)'")
        }
        let limit = maxPayload
        guard payload.readableBytes <= limit else {
            throw NATSClientError(
                .payloadTooLarge,
                "message to '\(subject)' is \(payload.readableBytes) bytes, the server's max_payload is \(limit) bytes")
        }
        try send(.publish(subject: subject, replyTo: replyTo, payload: payload))
    }

    public func publish(_ text: String, to subject: String, replyTo: String? = nil) throws(NATSClientError) {
        try publish(ByteBuffer(string: text), to: subject, replyTo: replyTo)
    }

    /// Sends now if connected, otherwise keeps the bytes for the next connection.
    func send(_ operation: ClientOperation) throws(NATSClientError) {
        try state.withLock { state throws(NATSClientError) in
            if state.finished { throw NATSClientError(.shutdown, "the client shut down") }
            if let connection = state.connection {
                connection.writer.enqueue(operation)
                return
            }
            var encoded = ByteBufferAllocator().buffer(capacity: 128)
            operation.encode(into: &encoded)
            guard state.reconnectBuffer.readableBytes + encoded.readableBytes <= configuration.reconnectBufferSize else {
                throw NATSClientError(
                    .reconnectBufferFull,
                    "not connected and the reconnect buffer (\(configuration.reconnectBufferSize) bytes) is full")
            }
            state.reconnectBuffer.writeBuffer(&encoded)
        }
    }

    /// Subscribes; once connected, returns only after the server has accepted the subscription, so a
    /// permissions violation is reported here.
    public func subscribe(to subject: String, queue: String? = nil) async throws(NATSClientError) -> NATSSubscription {
        guard SubjectValidation.isValid(subject, allowWildcards: true) else {
            throw NATSClientError(.invalidSubject, "cannot subscribe to '\(subject)'")
        }
        let counters = SubscriptionCounters()
        let (stream, continuation) = AsyncThrowingStream<NATSMessage, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(configuration.subscriptionBufferSize))
        let sid = try state.withLock { state throws(NATSClientError) -> UInt64 in
            if state.finished { throw NATSClientError(.shutdown, "the client shut down") }
            let sid = state.nextSID
            state.nextSID += 1
            state.subscriptions[sid] = SubscriptionRecord(
                subject: subject, queue: queue, continuation: continuation, counters: counters)
            state.connection?.writer.enqueue(.subscribe(subject: subject, queue: queue, sid: sid))
            return sid
        }
        let subscription = NATSSubscription(subject: subject, queue: queue, sid: sid, stream: stream, counters: counters)
        continuation.onTermination = { [weak self] _ in self?.forget(sid: sid) }
        if isConnected {
            try? await flush()
            if let violation = takePermissionError(for: subject) {
                forget(sid: sid)
                let error = NATSClientError(.permissionViolation, violation)
                continuation.finish(throwing: error)
                throw error
            }
        }
        return subscription
    }

    /// Subscribes for the duration of `body`, unsubscribing when it returns or throws.
    public func withSubscription<T: Sendable>(
        to subject: String, queue: String? = nil, _ body: (NATSSubscription) async throws -> T
    ) async throws -> T {
        let subscription = try await subscribe(to: subject, queue: queue)
        defer { unsubscribe(subscription) }
        return try await body(subscription)
    }

    public func unsubscribe(_ subscription: NATSSubscription) {
        forget(sid: subscription.sid)
    }

    func forget(sid: UInt64) {
        let continuation = state.withLock { state -> AsyncThrowingStream<NATSMessage, any Error>.Continuation? in
            guard let record = state.subscriptions.removeValue(forKey: sid) else { return nil }
            state.connection?.writer.enqueue(.unsubscribe(sid: sid, max: nil))
            return record.continuation
        }
        continuation?.finish()
    }

    /// Sends a request and waits for the first reply. Replies come through one shared inbox
    /// subscription; a request that gets no reply in time fails with `.timeout`.
    public func request(_ payload: ByteBuffer, to subject: String, timeout: Duration) async throws(NATSClientError)
        -> NATSMessage
    {
        try await ensureInbox()
        let token = state.withLock { state -> String in
            let token = String(state.nextRequestToken)
            state.nextRequestToken += 1
            return token
        }
        let replyTo = inboxPrefix + "." + token
        let eventLoop = group.any()
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<NATSMessage, any Error>) in
                state.withLock { $0.requests[token] = continuation }
                let timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) {
                    let waiting = self.state.withLock { $0.requests.removeValue(forKey: token) }
                    waiting?.resume(throwing: NATSClientError(.timeout, "no reply to '\(subject)' within \(timeout)"))
                }
                do {
                    try publish(payload, to: subject, replyTo: replyTo)
                } catch {
                    timer.cancel()
                    let waiting = state.withLock { $0.requests.removeValue(forKey: token) }
                    waiting?.resume(throwing: error)
                    return
                }
                // The timer is cancelled by whoever removes the request first; a late timer finds nothing.
                _ = timer
            }
        } catch let error as NATSClientError {
            throw error
        } catch {
            throw NATSClientError(.protocolError, "\(error)")
        }
    }

    public func request(_ text: String, to subject: String, timeout: Duration) async throws(NATSClientError) -> NATSMessage {
        try await request(ByteBuffer(string: text), to: subject, timeout: timeout)
    }

    private func ensureInbox() async throws(NATSClientError) {
        let created = try state.withLock { state throws(NATSClientError) -> Bool in
            if state.finished { throw NATSClientError(.shutdown, "the client shut down") }
            if state.inboxSID != nil { return false }
            let sid = state.nextSID
            state.nextSID += 1
            state.inboxSID = sid
            state.subscriptions[sid] = SubscriptionRecord(subject: inboxPrefix + ".*", queue: nil, continuation: nil)
            state.connection?.writer.enqueue(.subscribe(subject: inboxPrefix + ".*", queue: nil, sid: sid))
            return true
        }
        if created && isConnected { try? await flush() }
    }

    /// Waits until the server has processed everything sent so far.
    public func flush() async throws(NATSClientError) {
        guard let connection = state.withLock({ $0.connection }) else {
            throw NATSClientError(.notConnected, "not connected")
        }
        do {
            try await connection.flush()
        } catch let error as NATSClientError {
            throw error
        } catch {
            throw NATSClientError(.connectionClosed, "\(error)")
        }
    }

    /// Waits until connected (for callers that must not buffer).
    public func waitUntilConnected() async throws(NATSClientError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { state -> Bool in
                    if state.connection != nil { return true }
                    state.connectionWaiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } catch let error as NATSClientError {
            throw error
        } catch {
            throw NATSClientError(.shutdown, "\(error)")
        }
    }

    /// Unsubscribes everything, waits for the server to confirm, and closes; `run()` then returns.
    public func drain() {
        beginDrain()
    }

    private func takePermissionError(for subject: String) -> String? {
        state.withLock { state in
            guard let index = state.permissionErrors.firstIndex(where: { $0.contains("\"\(subject)\"") }) else {
                return nil
            }
            return state.permissionErrors.remove(at: index)
        }
    }
}

extension NATSClient: ConnectionDelegate {
    func deliver(_ message: NATSMessage) {
        let target = state.withLock {
            state -> (AsyncThrowingStream<NATSMessage, any Error>.Continuation?, SubscriptionCounters?, CheckedContinuation<NATSMessage, any Error>?) in
            if message.sid == state.inboxSID {
                let token = message.subject.split(separator: ".").last.map(String.init) ?? ""
                return (nil, nil, state.requests.removeValue(forKey: token))
            }
            let record = state.subscriptions[message.sid]
            return (record?.continuation, record?.counters, nil)
        }
        if let request = target.2 {
            request.resume(returning: message)
        } else if let continuation = target.0, case .dropped = continuation.yield(message) {
            target.1?.recordDrop()
        }
    }

    func serverReported(_ error: String) {
        logger.warning("NATS server reported an error", metadata: ["nats.error": "\(error)"])
        state.withLock { state in
            state.permissionErrors.append(error)
            if state.permissionErrors.count > 64 { state.permissionErrors.removeFirst() }
        }
    }

    func serverInfoChanged(_ info: ServerInfo) {
        state.withLock { state in
            state.serverInfo = info
            learnEndpoints(from: info, into: &state)
        }
    }
}
