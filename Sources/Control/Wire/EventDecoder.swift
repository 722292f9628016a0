import CorralEngine
import CorralModel
import Glibc

/// The control protocol's lines back into what a viewer shows: engine events, the end of the
/// run. The inverse of ``EventEncoder``, for `corral attach`.
package enum EventDecoder {
    /// What one line from a corral says.
    package enum Line {
        /// An engine event.
        case event(EngineEvent)
        /// The run ended (`stopped`).
        case stopped(ServerModel.Ended)
        /// The snapshot a connection starts with.
        case snapshot(WireMessage)
        /// The answer to a command.
        case reply(ok: Bool, text: String)
        /// The connection was refused (another user, too many clients).
        case refused(String)
        /// A line this viewer does not know (a newer corral's event): skipped.
        case unknown
    }

    /// Decodes one message; `now` turns relative times (`deadline_s`) into instants.
    package static func line(_ message: WireMessage, now: ContinuousClock.Instant) -> Line {
        switch message.event {
        case "snapshot": return .snapshot(message)
        case "reply": return .reply(ok: message.ok == true, text: message.error ?? message.text ?? "ok")
        case "refused": return .refused(message.reason ?? "refused")
        case "stopped":
            return .stopped(
                ServerModel.Ended(cause: message.cause ?? "", exitStatus: Int32(message.exitStatus ?? 0)))
        default: return event(message, now: now).map(Line.event) ?? .unknown
        }
    }

    /// The engine event a line describes, or nil when it is not one (or lacks a field).
    package static func event(_ message: WireMessage, now: ContinuousClock.Instant) -> EngineEvent? {
        let generation = message.generation ?? 0
        switch message.event {
        case "spawned":
            guard let slot = message.index, let pid = message.pid, let kind = message.kind.flatMap(ChildKind.init)
            else { return nil }
            return .spawned(slot: slot, pid: pid_t(pid), kind: kind, generation: generation)
        case "state":
            guard let slot = message.index, let state = message.state.flatMap(ProcessState.init) else { return nil }
            return .stateChanged(slot: slot, state, generation: generation)
        case "waiting":
            guard let slot = message.index else { return nil }
            if let text = message.waitingFor { return .waiting(slot: slot, .condition(text), generation: generation) }
            guard let needed = Duration(wireSeconds: message.readyAfterS) else { return nil }
            return .waiting(slot: slot, .uptime(needed), generation: generation)
        case "server":
            return message.state.flatMap(ServerState.init).map(EngineEvent.serverStateChanged)
        case "status":
            guard let slot = message.index, let text = message.text else { return nil }
            return .status(slot: slot, text: text)
        case "signal":
            guard let slot = message.index, let pid = message.pid, let signal = signal(message.signal),
                let reason = message.reason.flatMap(SignalReason.init)
            else { return nil }
            return .signalSent(slot: slot, pid: pid_t(pid), signal, reason, generation: generation)
        case "output":
            guard let slot = message.index, let stream = message.stream.flatMap(ChildStream.init),
                let line = message.line
            else { return nil }
            return .output(slot: slot, stream, line: line)
        case "exited":
            guard let slot = message.index, let pid = message.pid, let end = end(message) else { return nil }
            return .exited(slot: slot, pid: pid_t(pid), end, generation: generation)
        case "restart":
            guard let slot = message.index, let attempt = message.attempt,
                let delay = Duration(wireSeconds: message.delayS)
            else { return nil }
            return .restartScheduled(
                slot: slot, generation: generation, attempt: attempt, delay: delay, reason: message.reason ?? "")
        case "reload":
            switch message.phase {
            case "started": return message.workers.map { .reload(.started(workers: $0)) }
            case "done": return message.replaced.map { .reload(.done(replaced: $0)) }
            case "rolled_back":
                return .reload(
                    .rolledBack(
                        slot: message.index, reason: message.reason ?? "", replaced: message.replaced ?? 0,
                        failedEnd: message.failedExit.flatMap(end)))
            case "programs":
                return .reload(
                    .programsRead(
                        ProgramChanges(
                            added: message.added ?? [], removed: message.removed ?? [], changed: message.changed ?? [],
                            unchanged: message.unchanged ?? [])))
            case "refused":
                return .reload(.refused(reason: message.reason ?? ""))
            default: return nil
            }
        case "health":
            guard let slot = message.index, let ok = message.ok, let failures = message.failures else { return nil }
            return .health(slot: slot, generation: generation, ok: ok, failures: failures, detail: message.detail ?? "")
        case "reinstated":
            guard let slot = message.index, let pid = message.pid else { return nil }
            return .reinstated(slot: slot, pid: pid_t(pid), generation: generation)
        case "scale":
            if let reason = message.refused {
                return message.workers.map { .scaleRefused(workers: $0, reason: reason, program: message.program) }
            }
            return message.workers.map { .scaled(workers: $0, program: message.program) }
        case "added":
            guard let slot = message.index, let name = message.name.flatMap(ProcessName.init(parsing:)) else {
                return nil
            }
            return .slotAdded(slot: slot, name)
        case "failed":
            guard let slot = message.index, let failure = failure(message) else { return nil }
            return .failed(slot: slot, failure)
        case "stopping":
            guard let signal = signal(message.signal), let cause = cause(message) else { return nil }
            return .stopping(signal, cause: cause, deadline: instant(in: message.deadlineS, from: now))
        case "stop_repeated":
            guard let signal = signal(message.signal) else { return nil }
            return .stopRepeated(signal, deadline: instant(in: message.deadlineS, from: now))
        case "watchdog":
            guard let pid = message.pid else { return nil }
            return .watchdogEnded(pid: pid_t(pid), replacement: message.replacedBy.map { pid_t($0) })
        case "signal_ignored":
            return signal(message.signal).map { .signalIgnored($0) }
        default:
            return nil
        }
    }

    /// A signal by name (`SIGTERM`).
    package static func signal(_ name: String?) -> Signal? {
        name.flatMap { Signal(parsing: $0) }
    }

    /// `now` plus a number of seconds (negative: past); nil for none.
    package static func instant(in seconds: Double?, from now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let seconds, seconds.isFinite, abs(seconds) < 1e9 else { return nil }
        return now + .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// How a process ended, from an `exited` line or a process's `last_exit`.
    package static func end(_ message: WireMessage) -> SlotEnd? {
        guard let termination = termination(message) else { return nil }
        var origin: SignalOrigin?
        if case .signaled = termination {
            origin =
                message.sentBySupervisor == true
                ? .supervisor(message.reason.flatMap(SignalReason.init) ?? .command) : .external
        }
        var end = SlotEnd(
            termination: termination, origin: origin, failure: failure(message), lastLines: message.lastLines ?? [])
        end.isStoppedByOperator = message.stoppedByOperator == true
        return end
    }

    /// `code`, `signal` with `core_dumped`, or `reaped_elsewhere`.
    package static func termination(_ message: WireMessage) -> Termination? {
        if let code = message.code { return .exited(code: CInt(truncatingIfNeeded: code)) }
        if let signal = signal(message.signal) {
            return .signaled(signal, coreDumped: message.coreDumped == true)
        }
        if message.reapedElsewhere == true { return .reapedElsewhere }
        return nil
    }

    /// The failure `failure_kind` and its fields describe; nil when there is none.
    package static func failure(_ message: WireMessage) -> SlotFailure? {
        let limit = Duration(wireSeconds: message.limitS) ?? .zero
        let ended = termination(message) ?? .reapedElsewhere
        switch message.failureKind {
        case "init_failed": return .initFailed(ended)
        case "init_timed_out": return .initTimedOut(limit)
        case "exited_unexpectedly": return .exitedUnexpectedly(ended)
        case "shutdown_failed": return .shutdownFailed(ended)
        case "killed_after_timeout": return .killedAfterTimeout(limit)
        case "group_killed_after_timeout": return .groupKilledAfterTimeout(limit)
        case "force_killed": return .forceKilled
        case "spawn_failed": return .spawnFailed(message.spawnError ?? message.failure ?? "")
        case "dependency_failed": return .dependencyFailed(message.dependency ?? "")
        case "gave_up":
            return .gaveUp(
                restarts: message.restarts ?? 0, window: Duration(wireSeconds: message.windowS) ?? .zero, last: nil)
        default: return nil
        }
    }

    /// Why the server stops, from `cause_kind` and its fields.
    package static func cause(_ message: WireMessage) -> StopCause? {
        let signal = signal(message.causeSignal)
        switch message.causeKind {
        case "signal": return signal.map(StopCause.signal)
        case "command": return signal.map(StopCause.command)
        case "failure": return message.causeIndex.map { .failure(slot: $0) }
        case "spawn_failed": return message.causeIndex.map { .spawnFailed(slot: $0) }
        case "all_exited": return .allExited
        case "all_completed": return .allCompleted
        default: return nil
        }
    }
}
