import Synchronization

/// Holds the first stop signal a child received and wakes everyone waiting for it.
/// Later signals are ignored: in a child, the first stop signal wins (as in aiotools).
final class StopLatch: Sendable {
    private struct State {
        var signal: Signal?
        var fromSupervisor = false
        var received: [Signal] = []
        var waiters: [Int: CheckedContinuation<Signal?, Never>] = [:]
        var nextWaiter = 0
        /// Waiters cancelled before they were registered.
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    /// The signal, once one arrived.
    var signal: Signal? { state.withLock { $0.signal } }

    /// Whether the supervisor sent the first signal (so it knows the child is stopping).
    var firstCameFromSupervisor: Bool { state.withLock { $0.fromSupervisor } }

    /// Every delivery so far, in order (the kernel merges deliveries that arrive while one is pending).
    var received: [Signal] { state.withLock { $0.received } }

    /// Records `signal` (sent by the supervisor, or not) if it is the first, and resumes
    /// every waiter with it.
    func fire(_ signal: Signal, fromSupervisor: Bool = false) {
        let waiters: [CheckedContinuation<Signal?, Never>] = state.withLock { state in
            state.received.append(signal)
            guard state.signal == nil else { return [] }
            state.signal = signal
            state.fromSupervisor = fromSupervisor
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: signal) }
    }

    /// Suspends until a signal was recorded; returns at once if one already was, and nil when
    /// the waiting task is cancelled first.
    func wait() async -> Signal? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Signal?, Never>) in
                let ready: Signal?? = state.withLock { state in
                    if let signal = state.signal { return .some(signal) }
                    if state.cancelled.remove(id) != nil { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    if state.signal == nil { state.cancelled.insert(id) }
                    return CheckedContinuation<Signal?, Never>?.none
                }
                return waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
