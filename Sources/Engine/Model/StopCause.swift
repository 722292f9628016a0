/// Why the server stopped.
public enum StopCause: Hashable, Sendable, CustomStringConvertible {
    /// This stop signal reached the supervisor.
    case signal(Signal)
    /// A front end or the API asked for the stop, sending this signal to every child.
    case command(Signal)
    /// This slot failed and the policy is fail-fast.
    case failure(slot: Int)
    /// A child could not be spawned (the run throws the spawn error after cleaning up).
    case spawnFailed(slot: Int)
    /// Every child ended by itself.
    case allExited
    /// Every process was a one-shot, and every one completed (exit 0).
    case allCompleted

    /// Whether someone asked for the stop (a stop signal or a command), as opposed to a failure.
    public var wasRequested: Bool {
        switch self {
        case .signal, .command, .allCompleted: return true
        case .failure, .spawnFailed, .allExited: return false
        }
    }

    /// The cause without the signal, for lines that name the signal already.
    package var summary: String {
        if case .command = self { return "stop requested" }
        return description
    }

    /// A one-line description for logs and reports.
    public var description: String { description { "slot \($0)" } }

    /// The cause with a slot named as the reader knows it (`worker.1 failed`).
    package func description(naming name: (Int) -> String) -> String {
        switch self {
        case .signal(let signal): return "\(signal) received"
        case .command(let signal): return "stop requested (\(signal))"
        case .failure(let slot): return "\(name(slot)) failed"
        case .spawnFailed(let slot): return "\(name(slot)) could not be spawned"
        case .allExited: return "every process ended by itself"
        case .allCompleted: return "every one-shot completed"
        }
    }

    /// ``summary`` with a slot named as the reader knows it.
    package func summary(naming name: (Int) -> String) -> String {
        if case .command = self { return "stop requested" }
        return description(naming: name)
    }
}
