/// The output lines one control client did not get, counted against the server's running count
/// of output lines, so that a line dropped costs the server nothing per client: every line after
/// the last one ``accounted`` up to the count was missed. Told in `output_dropped` lines at most
/// every ``noticeInterval``.
package struct MissedOutput {
    /// How often a client is told of the lines it missed.
    package static let noticeInterval = Duration.milliseconds(500)

    /// The number (in the server's count) of the last line sent or told of.
    private var accounted: Int
    /// Lines missed before ``accounted`` and not told yet.
    private var missed = 0
    private var lastNotice: ContinuousClock.Instant

    /// Counting from the server's `outputCount`.
    package init(outputCount: Int, now: ContinuousClock.Instant) {
        accounted = outputCount
        lastNotice = now - Self.noticeInterval
    }

    /// Starts again from `outputCount` (events back on: what was missed meanwhile is not told).
    package mutating func restart(outputCount: Int) {
        accounted = outputCount
        missed = 0
    }

    /// Line number `index` was sent.
    package mutating func sent(_ index: Int) {
        missed += max(0, index - accounted - 1)
        accounted = index
    }

    /// The lines missed up to `outputCount` to tell of now, if any and if the last notice is old
    /// enough (`force`: now); the count starts again.
    package mutating func notice(outputCount: Int, now: ContinuousClock.Instant, force: Bool) -> Int? {
        let lines = missed + max(0, outputCount - accounted)
        guard lines > 0, force || lastNotice.duration(to: now) >= Self.noticeInterval else { return nil }
        missed = 0
        accounted = outputCount
        lastNotice = now
        return lines
    }
}
