/// How one slot ended: the decoded status, who sent the fatal signal, and whether that counts as
/// a failure.
public struct SlotEnd: Hashable, Sendable, CustomStringConvertible {
    /// The decoded wait status.
    public var termination: Termination
    /// For a signal death: who sent it. Nil for a normal exit.
    public var origin: SignalOrigin?
    /// Nil when the slot ended as it should: exit 0, or the very stop signal it was sent, after
    /// a stop was asked of it; or an extra process that finished with exit 0 by itself.
    public var failure: SlotFailure?
    /// The last lines (at most ``lastLinesKept``) the process wrote to standard error: what a
    /// failure usually says about itself ("Address already in use").
    public var lastLines: [String]

    /// How many of the last standard error lines an end keeps.
    public static let lastLinesKept = 5

    /// Creates an end record (the engine makes these; front-end tests may too).
    package init(termination: Termination, origin: SignalOrigin?, failure: SlotFailure?, lastLines: [String] = []) {
        self.termination = termination
        self.origin = origin
        self.failure = failure
        self.lastLines = lastLines
    }

    /// Whether the slot ended cleanly.
    public var isClean: Bool { failure == nil }

    /// It died of a signal an operator sent to it alone (a key, a command): intended, so not a
    /// failure. (A signal to every process is a stop, not this.)
    public var isStoppedByOperator: Bool = false

    /// A one-line description for logs and reports.
    public var description: String {
        if isStoppedByOperator, let signal = termination.signal { return "stopped by operator (\(signal))" }
        var text = termination.description
        if let signal = termination.signal, let origin {
            switch origin {
            case .supervisor(let reason): text += " (sent by the supervisor: \(reason))"
            case .external:
                text += signal == .kill ? " (SIGKILL not sent by us: OOM killer?)" : " (not sent by the supervisor)"
            }
        }
        if let failure { text += ": \(failure.reason)" }
        return text
    }
}
