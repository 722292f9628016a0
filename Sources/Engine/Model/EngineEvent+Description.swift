extension EngineEvent: CustomStringConvertible {
    /// A one-line description for logs and `print`: `slot 1 running (generation 0)`,
    /// `sent SIGTERM to slot 0 (pid 4242): forwarded`. A deadline reads as the time left now.
    public var description: String {
        switch self {
        case .spawned(let slot, let pid, let kind, let generation):
            return "spawned \(kind) slot \(slot) (pid \(pid), generation \(generation))"
        case .stateChanged(let slot, let state, let generation):
            return "slot \(slot) \(state) (generation \(generation))"
        case .waiting(let slot, let wait, _):
            return "slot \(slot) waits: \(wait)"
        case .serverStateChanged(let state):
            return "server \(state)"
        case .status(let slot, let text):
            return "slot \(slot) status: \(text)"
        case .signalSent(let slot, let pid, let signal, let reason, _):
            return "sent \(signal) to slot \(slot) (pid \(pid)): \(reason.explanation)"
        case .output(let slot, let stream, let line):
            return "slot \(slot) \(stream): \(line)"
        case .exited(let slot, let pid, let end, let generation):
            return "slot \(slot) (pid \(pid), generation \(generation)) \(end)"
        case .restartScheduled(let slot, let generation, let attempt, let delay, let reason):
            return
                "slot \(slot) restarts in \(delay.secondsText) as generation \(generation) (attempt \(attempt)): \(reason)"
        case .reinstated(let slot, let pid, let generation):
            return "slot \(slot) serves again with pid \(pid) (generation \(generation)) after a rolled-back reload"
        case .health(let slot, _, let ok, let failures, let detail):
            return ok
                ? "slot \(slot) healthy again" : "slot \(slot) health check failed (\(failures) in a row): \(detail)"
        case .scaled(let workers, let program):
            return "scaled \(program.map { "\($0) " } ?? "")to \(Self.processes(workers, program))"
        case .scaleRefused(let workers, let reason, let program):
            return "scale refused (\(Self.processes(workers, program)) run): \(reason)"
        case .slotAdded(let slot, let name):
            return "slot \(slot) added as \(name)"
        case .reload(let progress):
            return progress.description
        case .failed(let slot, let failure):
            return "slot \(slot) failed: \(failure)"
        case .stopping(let signal, let cause, let deadline):
            return "stopping with \(signal): \(cause)\(Self.killText(deadline))"
        case .stopRepeated(let signal, let deadline):
            return "\(signal) received while stopping: nothing sent again\(Self.killText(deadline))"
        case .watchdogEnded(let pid, let replacement):
            return "the watchdog (pid \(pid)) ended; replacement: \(replacement.map { "pid \($0)" } ?? "none")"
        case .signalIgnored(let signal):
            return "\(signal) received and ignored"
        case .stopped(let report):
            return "stopped: \(report.cause), exit status \(report.exitStatus)"
        }
    }

    /// `4 workers`, or in a run of programs `4 processes`.
    package static func processes(_ count: Int, _ program: String?) -> String {
        let noun = program == nil ? "worker" : "process"
        return "\(count) \(noun)\(count == 1 ? "" : program == nil ? "s" : "es")"
    }

    private static func killText(_ deadline: ContinuousClock.Instant?) -> String {
        guard let deadline else { return "" }
        return "; SIGKILL in \(max(.zero, ContinuousClock.now.duration(to: deadline)).secondsText)"
    }
}
