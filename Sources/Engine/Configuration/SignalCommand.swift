/// What a signal sent to the supervisor by another process asks for, besides stopping
/// (``SupervisorConfiguration/commandSignals``), after gunicorn: `SIGHUP` reload,
/// `SIGTTIN` / `SIGTTOU` one worker more / fewer.
public enum SignalCommand: String, Sendable, Hashable, Codable {
    /// ``SupervisorCommand/reload``.
    case reload
    /// ``SupervisorCommand/scale(workers:)`` to one worker more.
    case scaleUp = "scale-up"
    /// ``SupervisorCommand/scale(workers:)`` to one worker fewer (never below one).
    case scaleDown = "scale-down"
}
