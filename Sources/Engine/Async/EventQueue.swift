import Synchronization

/// The events between the driver's thread and an async consumer. The driver never waits:
/// ``push(_:)`` only appends. Memory stays bounded: once ``outputLimit`` output lines wait
/// unread, further lines are dropped and counted; every other event is kept, so a consumer that
/// falls behind still sees every state change, in order.
final class EventQueue: Sendable {
    private struct Buffer {
        var events: [EngineEvent] = []
        var head = 0
        var waitingOutput = 0
        var dropped = 0
        var finished = false
        var waiters: [(id: Int, continuation: CheckedContinuation<EngineEvent?, Never>)] = []
        var nextWaiter = 0

        mutating func popFirst() -> EngineEvent? {
            guard head < events.count else { return nil }
            let event = events[head]
            head += 1
            if head == events.count {
                events.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 4096, head * 2 >= events.count {
                events.removeFirst(head)
                head = 0
            }
            if case .output = event { waitingOutput -= 1 }
            return event
        }
    }

    /// How many output lines may wait unread before further ones are dropped.
    let outputLimit: Int
    private let state = Mutex(Buffer())

    init(outputLimit: Int) {
        self.outputLimit = outputLimit
    }

    /// Output lines dropped so far because the consumer was behind.
    var droppedOutputLines: Int { state.withLock { $0.dropped } }

    /// Hands `event` to a waiting consumer or queues it; drops an output line over the limit.
    func push(_ event: EngineEvent) {
        let waiter: CheckedContinuation<EngineEvent?, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            if case .output = event {
                guard state.waitingOutput < outputLimit else {
                    state.dropped += 1
                    return nil
                }
                state.waitingOutput += 1
            }
            state.events.append(event)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// No more events: consumers get what is queued, then the end.
    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The next event, or nil at the end (or when the calling task is cancelled).
    func next() async -> EngineEvent? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<EngineEvent?, Never>) in
                let ready: EngineEvent?? = state.withLock { state in
                    if let event = state.popFirst() { return .some(event) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(returning: nil)
        }
    }
}
