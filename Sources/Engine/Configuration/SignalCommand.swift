/// What a signal sent to the supervisor by another process asks for, besides stopping
/// (``SupervisorConfiguration/commandSignals``), after gunicorn: `SIGHUP` reload,
/// `SIGTTIN` / `SIGTTOU` one worker more / fewer.
public enum SignalCommand: String, Sendable, Hashable, Codable {
    /// ``SupervisorCommand/reload``.
    case reload
    /// ``SupervisorCommand/reload``, unless the supervisor had a controlling terminal at start
    /// and that terminal has hung up (it closed: the kernel sends `SIGHUP`, and a shell forwards
    /// its own): then a graceful stop. Decided at each signal.
    case reloadUnlessHungUp = "reload-unless-hung-up"
    /// ``SupervisorCommand/scale(workers:)`` to one worker more.
    case scaleUp = "scale-up"
    /// ``SupervisorCommand/scale(workers:)`` to one worker fewer (never below one).
    case scaleDown = "scale-down"
}
