/// Why the supervisor sent a signal to a child.
public enum SignalReason: String, Hashable, Sendable, Codable, CustomStringConvertible {
    /// A stop signal the supervisor received, forwarded to every child.
    case forward
    /// The server is stopping because a child failed (fail-fast policy).
    case failFast = "fail-fast"
    /// The server is stopping because a front end or the API asked it to.
    case stopCommand = "stop"
    /// An explicit "send this signal" command from a front end (a key in the dashboard).
    case command
    /// A slot's process ended and other processes of its group remained: they get the stop
    /// signal once (and `SIGKILL` at the deadline), as systemd stops a unit's leftovers.
    case cleanup
    /// The wait timeout ran out: `SIGKILL` to the child's whole process group.
    case timeout
    /// A restart on request: the slot's process is replaced.
    case restart
    /// A rolling reload: the process was replaced by its next generation.
    case reload
    /// Scaling down: the worker slot retires.
    case scale
    /// A file reload removed its program: the slot retires.
    case removed
    /// It failed its health check too many times in a row: it is restarted.
    case unhealthy
    /// Its process tree used more memory than allowed: it is restarted.
    case memory

    /// A one-line description for logs and reports (the JSON value).
    public var description: String { rawValue }

    /// Why the signal was sent, in words for an operator: `forwarded`, `restart requested`.
    /// The one wording every text view uses.
    package var explanation: String {
        switch self {
        case .forward: return "forwarded"
        case .failFast: return "a process failed: stopping all"
        case .stopCommand: return "stop requested"
        case .command: return "by command"
        case .cleanup: return "to what remained of its process group"
        case .timeout: return "after the timeout"
        case .restart: return "restart requested"
        case .reload: return "replaced by a reload"
        case .scale: return "retired by scaling down"
        case .removed: return "its program was removed"
        case .unhealthy: return "unhealthy: restarting it"
        case .memory: return "over its memory limit: restarting it"
        }
    }
}
