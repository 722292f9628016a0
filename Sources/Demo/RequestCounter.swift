import Synchronization

/// Counts one worker's requests across its event loop and its status reporter.
final class RequestCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more request and returns the new total.
    func next() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Requests so far.
    var value: Int { count.load(ordering: .relaxed) }
}
