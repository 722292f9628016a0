/// What the supervisor sent one process (and its group), and why, in order: the one place that
/// decides who sent the signal a process died of.
struct SignalLedger: Hashable, Sendable {
    /// One signal sent.
    struct Entry: Hashable, Sendable {
        var signal: Signal
        var reason: SignalReason
        /// It was a stop signal: the process gets no other (one stop signal per process).
        var isStop: Bool
        /// It asked the process to end, so its end is not unexpected.
        var asksToEnd: Bool
    }

    private(set) var entries: [Entry] = []

    /// Records a signal sent.
    mutating func record(_ signal: Signal, _ reason: SignalReason, isStop: Bool, asksToEnd: Bool) {
        entries.append(Entry(signal: signal, reason: reason, isStop: isStop, asksToEnd: asksToEnd))
    }

    /// A stop signal was sent.
    var stopSent: Bool { entries.contains(where: \.isStop) }
    /// `SIGKILL` was sent: nothing more is sent.
    var killed: Bool { entries.contains { $0.signal == .kill } }
    /// Something sent asked the process to end.
    var asksToEnd: Bool { entries.contains(where: \.asksToEnd) }

    /// Who sent the signal a process ended of: the supervisor (for the reason of the last time it
    /// sent that signal), or someone else; nil when no signal ended it.
    func origin(of termination: Termination) -> SignalOrigin? {
        termination.signal.map { signal in
            entries.last { $0.signal == signal }.map { .supervisor($0.reason) } ?? .external
        }
    }
}
