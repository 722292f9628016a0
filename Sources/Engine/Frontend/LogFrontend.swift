import Logging

/// The default front end: every event to the configured `Logger` (children's output at `info`,
/// with `slot` and `stream` metadata), so nothing is lost when no other front end is given.
public final class LogFrontend: Frontend {
    private let logger: Logger

    /// Logs to `logger`.
    public init(logger: Logger) { self.logger = logger }

    /// Logs `event` at its level: output lines at info, failures at error.
    public func handle(_ event: EngineEvent) {
        switch event {
        case .spawned(let slot, let pid, let kind, _):
            logger.debug("spawned \(kind) \(slot)", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        case .stateChanged(let slot, let state, _):
            logger.debug("slot \(slot) \(state)", metadata: ["slot": "\(slot)"])
        case .health(let slot, _, let ok, let failures, let detail):
            if ok {
                logger.info("healthy again", metadata: ["slot": "\(slot)"])
            } else {
                logger.warning("health check failed (\(failures) in a row): \(detail)", metadata: ["slot": "\(slot)"])
            }
        case .reinstated(let slot, let pid, let generation):
            logger.info(
                "serves again (generation \(generation)) after a rolled-back reload",
                metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        case .waiting(let slot, let wait, _):
            logger.info("\(wait)", metadata: ["slot": "\(slot)"])
        case .serverStateChanged(let state):
            logger.info("server \(state)")
        case .status(let slot, let text):
            logger.info("status: \(text)", metadata: ["slot": "\(slot)"])
        case .signalSent(let slot, let pid, let signal, let reason, _):
            logger.info("sent \(signal) (\(reason))", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        case .output(let slot, let stream, let line):
            logger.info("\(line)", metadata: ["slot": "\(slot)", "stream": "\(stream.rawValue)"])
        case .exited(let slot, let pid, let end, _):
            let level: Logger.Level = end.isClean ? .info : .error
            logger.log(level: level, "\(end)", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        case .restartScheduled(let slot, let generation, let attempt, let delay, let reason):
            logger.warning(
                "\(reason): restarting in \(delay.secondsText) (attempt \(attempt), generation \(generation))",
                metadata: ["slot": "\(slot)"])
        case .reload(let progress):
            logger.info("\(progress)")
        case .scaled, .slotAdded:
            logger.info("\(event)")
        case .scaleRefused(_, let reason, let program):
            logger.warning("scale\(program.map { " of \($0)" } ?? "") refused: \(reason)")
        case .failed(let slot, let failure):
            logger.error("\(failure)", metadata: ["slot": "\(slot)"])
        case .stopping(let signal, let cause, _):
            logger.info("stopping with \(signal): \(cause)")
        case .stopRepeated(let signal, _):
            logger.info("\(signal) received while stopping: nothing sent again")
        case .watchdogEnded(let pid, let replacement):
            logger.error("the watchdog (pid \(pid)) ended; replacement: \(replacement.map(String.init) ?? "none")")
        case .signalIgnored(let signal):
            logger.notice("\(signal) received and ignored")
        case .stopped(let report):
            logger.info("stopped: \(report.cause), exit status \(report.exitStatus)")
        }
    }
}
