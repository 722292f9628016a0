/// What went wrong with one slot.
public enum SlotFailure: Hashable, Sendable, CustomStringConvertible {
    /// It ended before reporting ready (a Swift worker whose body threw before `waitForStop()`
    /// exits with ``WorkerExitCode/initFailure``).
    case initFailed(Termination)
    /// It did not report ready within the configured init timeout.
    case initTimedOut(Duration)
    /// It ended while running without being asked to.
    case exitedUnexpectedly(Termination)
    /// It was asked to stop but did not end cleanly (non-zero exit, or another signal).
    case shutdownFailed(Termination)
    /// It outlived the wait timeout; its process group was sent `SIGKILL`.
    case killedAfterTimeout(Duration)
    /// It ended, but what remained of its process group outlived the wait timeout and was sent
    /// `SIGKILL`.
    case groupKilledAfterTimeout(Duration)
    /// An operator force-killed it.
    case forceKilled
    /// It could not be started.
    case spawnFailed(String)
    /// It was never started: a program it depends on failed (its name).
    case dependencyFailed(String)
    /// It crash-looped: it ended unasked after `restarts` restarts within `window`, so it was
    /// not restarted again (`last` says how its last process ended).
    indirect case gaveUp(restarts: Int, window: Duration, last: SlotFailure?)

    /// The failure without the termination it carries, for a line that names it already.
    package var reason: String {
        switch self {
        case .initFailed: return "init failed"
        case .exitedUnexpectedly: return "ended while running, without being asked"
        case .shutdownFailed: return "shutdown failed"
        case .killedAfterTimeout(let limit): return "the \(limit.secondsText) wait timeout ran out"
        case .forceKilled: return "force-killed"
        default: return description
        }
    }

    /// A one-line description for logs and reports.
    public var description: String {
        switch self {
        case .initFailed(let termination): return "init failed (\(termination))"
        case .dependencyFailed(let program): return "not started: \(program), which it depends on, failed"
        case .initTimedOut(let limit): return "init timed out after \(limit.secondsText)"
        case .exitedUnexpectedly(let termination): return "\(termination) while running, without being asked"
        case .shutdownFailed(let termination): return "shutdown failed (\(termination))"
        case .killedAfterTimeout(let limit):
            return "SIGKILL sent by the supervisor after the \(limit.secondsText) wait timeout"
        case .groupKilledAfterTimeout(let limit):
            return "what remained of its process group was SIGKILLed after the \(limit.secondsText) wait timeout"
        case .forceKilled: return "force-killed by command"
        case .spawnFailed(let reason): return "spawn failed: \(reason)"
        case .gaveUp(let restarts, let window, let last):
            let because = last.map { ": \($0)" } ?? ""
            return "gave up after \(restarts) restart\(restarts == 1 ? "" : "s") in \(window.secondsText)\(because)"
        }
    }
}
