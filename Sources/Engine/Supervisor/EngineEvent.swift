import Glibc

/// Which output stream of a child a line came from.
public enum OutputStream: String, Hashable, Sendable, Codable {
    /// The child's standard output.
    case stdout
    /// The child's standard error.
    case stderr
}

/// Everything a front end can learn from the engine, delivered in order on the driver thread.
public enum EngineEvent: Sendable, Hashable {
    /// A slot's process was started.
    case spawned(slot: Int, pid: pid_t, kind: ChildKind)
    /// A slot moved to a new state.
    case stateChanged(slot: Int, ProcessState)
    /// The server as a whole moved to a new state.
    case serverStateChanged(ServerState)
    /// A child sent `STATUS=` text.
    case status(slot: Int, text: String)
    /// The supervisor sent a signal to a child (for `SIGKILL` on timeout: its whole group).
    case signalSent(slot: Int, pid: pid_t, Signal, SignalReason)
    /// One line of a child's output, without its newline; invalid UTF-8 is replaced.
    case output(slot: Int, OutputStream, line: String)
    /// A child ended and was reaped.
    case exited(slot: Int, pid: pid_t, SlotEnd)
    /// A slot failed (also reported in its `exited` event, or for a spawn failure instead).
    case failed(slot: Int, SlotFailure)
    /// The stop began: the signal sent to every child and the `SIGKILL` deadline (nil: none).
    case stopping(Signal, cause: StopCause, deadline: ContinuousClock.Instant?)
    /// A stop signal (or terminating signal) arrived while the stop was under way: nothing is
    /// sent again; the `SIGKILL` deadline stands (nil: none, or already passed).
    case stopRepeated(Signal, deadline: ContinuousClock.Instant?)
    /// A signal the configuration ignores arrived (``SupervisorConfiguration/ignoredSignals``).
    case signalIgnored(Signal)
    /// Every child has ended; the run is about to return this report.
    case stopped(SupervisorReport)
}

extension SupervisorReport: Hashable {
    /// Equal when the cause, the stop signal, every slot and the processes left behind are.
    public static func == (lhs: SupervisorReport, rhs: SupervisorReport) -> Bool {
        lhs.cause == rhs.cause && lhs.stopSignal == rhs.stopSignal && lhs.slots == rhs.slots
            && lhs.leftBehind == rhs.leftBehind
    }

    /// Hashes what ``==(_:_:)`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(cause)
        hasher.combine(stopSignal)
        hasher.combine(slots)
        hasher.combine(leftBehind)
    }
}
