/// How much of the children's output corral sends its control clients: a token bucket of
/// ``rate`` bytes a second with a burst of ``burst``, shared by every client (each line let
/// through is encoded once and sent to every client with room for it). A viewer shows a few
/// dozen lines and a script that needs every line of a flood reads `--json`; so a flood costs
/// corral about the same with clients attached as without: the lines over budget are not
/// encoded at all.
package struct OutputBudget {
    /// Bytes of output events a second, on average.
    package static let rate = 1.0 * 1024 * 1024
    /// Bytes of output events at once.
    package static let burst = 128.0 * 1024

    private var tokens = burst
    private var refilled: ContinuousClock.Instant

    package init(now: ContinuousClock.Instant) {
        refilled = now
    }

    /// Whether an output line may be sent now.
    package mutating func allows(now: ContinuousClock.Instant) -> Bool {
        let elapsed = refilled.duration(to: now) / .seconds(1)
        if elapsed > 0 {
            tokens = min(Self.burst, tokens + elapsed * Self.rate)
            refilled = now
        }
        return tokens > 0
    }

    /// Counts the bytes of a line sent.
    package mutating func spend(_ bytes: Int) {
        tokens -= Double(bytes)
    }
}
