import CorralEngine

/// Engine events as the JSON objects `--json` writes and the control socket sends: one schema
/// for both (the README's "Headless output" and "From another terminal").
package struct EventEncoder {
    private var names: SlotNames
    /// The control socket's path, told in the first `server` event (`starting`); nil: none.
    package let control: String?
    /// `--metrics`' address (`127.0.0.1:9100`), told in the first `server` event when set.
    package var metrics: String?

    /// An encoder for a run of `workers` workers whose configured slots are named `names`.
    package init(workers: Int, names: [ProcessName] = [], control: String?) {
        self.names = SlotNames(workers: workers, names: names)
        self.control = control
    }

    /// Remembers what later events are named by (pids and kinds from `spawned`).
    package mutating func observe(_ event: EngineEvent) {
        names.observe(event)
    }

    /// `worker.2`, `extra.4`.
    package func name(_ slot: Int) -> String { names.name(slot) }

    /// The JSON line for an event (``observe(_:)`` it first).
    package func encode(_ event: EngineEvent, time: String, now: ContinuousClock.Instant) -> String {
        var object = JSONObject()
        object["time"] = .string(time)
        switch event {
        case .spawned(let slot, let pid, let kind, let generation):
            object["event"] = .string("spawned")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
            object["kind"] = .string(kind.rawValue)
        case .stateChanged(let slot, let state, let generation):
            object["event"] = .string("state")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = names.pid(slot).map { .int(Int($0)) } ?? .null
            object["state"] = .string(state.rawValue)
        case .waiting(let slot, let wait, let generation):
            object["event"] = .string("waiting")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            switch wait {
            case .condition(let text): object["waiting_for"] = .string(text)
            case .uptime(let needed): object["ready_after_s"] = .seconds(needed)
            }
        case .serverStateChanged(let state):
            object["event"] = .string("server")
            object["state"] = .string(state.rawValue)
            if state == .starting {
                object["control"] = control.map { .string($0) } ?? .null
                if let metrics { object["metrics"] = .string(metrics) }
            }
        case .status(let slot, let text):
            object["event"] = .string("status")
            object["index"] = .int(slot)
            object["text"] = .string(text)
        case .signalSent(let slot, let pid, let signal, let reason, let generation):
            object["event"] = .string("signal")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
            object["signal"] = .string(signal.name)
            object["reason"] = .string(reason.rawValue)
        case .output(let slot, let stream, let line):
            object["event"] = .string("output")
            object["index"] = .int(slot)
            object["stream"] = .string(stream.rawValue)
            object["line"] = .string(line)
        case .exited(let slot, let pid, let end, let generation):
            object["event"] = .string("exited")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
            Self.encodeEnd(end, into: &object)
        case .restartScheduled(let slot, let generation, let attempt, let delay, let reason):
            object["event"] = .string("restart")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["attempt"] = .int(attempt)
            object["delay_s"] = .seconds(delay)
            object["reason"] = .string(reason)
        case .reload(let progress):
            object["event"] = .string("reload")
            object["phase"] = .string(progress.phase)
            switch progress {
            case .started(let workers): object["workers"] = .int(workers)
            case .done(let replaced): object["replaced"] = .int(replaced)
            case .rolledBack(let slot, let reason, let replaced, let failedEnd):
                object["index"] = slot.map { .int($0) } ?? .null
                object["reason"] = .string(reason)
                object["replaced"] = .int(replaced)
                if let failedEnd {
                    var exit = JSONObject()
                    Self.encodeEnd(failedEnd, into: &exit)
                    object["failed_exit"] = .object(exit)
                    object["last_lines"] = .strings(failedEnd.lastLines)
                }
            case .programsRead(let changes):
                object["added"] = .strings(changes.added)
                object["removed"] = .strings(changes.removed)
                object["changed"] = .strings(changes.changed)
                object["unchanged"] = .strings(changes.unchanged)
            case .refused(let reason):
                object["reason"] = .string(reason)
            }
        case .health(let slot, let generation, let ok, let failures, let detail):
            object["event"] = .string("health")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["ok"] = .bool(ok)
            object["failures"] = .int(failures)
            object["detail"] = .string(detail)
        case .reinstated(let slot, let pid, let generation):
            object["event"] = .string("reinstated")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
        case .scaled(let workers, let program):
            object["event"] = .string("scale")
            object["workers"] = .int(workers)
            if let program { object["program"] = .string(program) }
        case .scaleRefused(let workers, let reason, let program):
            object["event"] = .string("scale")
            object["workers"] = .int(workers)
            object["refused"] = .string(reason)
            if let program { object["program"] = .string(program) }
        case .slotAdded(let slot, _):
            object["event"] = .string("added")
            object["index"] = .int(slot)
        case .failed(let slot, let failure):
            object["event"] = .string("failed")
            object["index"] = .int(slot)
            Self.encodeFailure(failure, into: &object)
        case .stopping(let signal, let cause, let deadline):
            object["event"] = .string("stopping")
            object["signal"] = .string(signal.name)
            encodeCause(cause, into: &object)
            object["deadline_s"] = deadline.map { .seconds(now.duration(to: $0)) } ?? .null
        case .stopRepeated(let signal, let deadline):
            object["event"] = .string("stop_repeated")
            object["signal"] = .string(signal.name)
            object["deadline_s"] = deadline.map { .seconds(now.duration(to: $0)) } ?? .null
        case .watchdogEnded(let pid, let replacement):
            object["event"] = .string("watchdog")
            object["pid"] = .int(Int(pid))
            object["replaced_by"] = replacement.map { .int(Int($0)) } ?? .null
        case .signalIgnored(let signal):
            object["event"] = .string("signal_ignored")
            object["signal"] = .string(signal.name)
        case .stopped(let report):
            object["event"] = .string("stopped")
            object["exit_status"] = .int(Int(report.exitStatus))
            object["cause"] = .string(report.causeDescription)
            object["left_behind"] = .ints(report.leftBehind.map { Int($0.pid) })
            object["gave_up"] = .ints(report.slotsThatGaveUp)
        }
        // Every event about a process names it: `web.1` of program `web` (`worker.2` of `worker`).
        if case .int(let slot)? = object["index"] {
            let name = names.processName(slot)
            object["name"] = .string(name.description)
            object["program"] = .string(name.program)
        }
        return object.encoded
    }

    /// `cause` (text), and `cause_kind` with `cause_signal` or `cause_index` for a program.
    package func encodeCause(_ cause: StopCause, into object: inout JSONObject) {
        object["cause"] = .string(cause.description(naming: names.name))
        switch cause {
        case .signal(let signal):
            object["cause_kind"] = .string("signal")
            object["cause_signal"] = .string(signal.name)
        case .command(let signal):
            object["cause_kind"] = .string("command")
            object["cause_signal"] = .string(signal.name)
        case .failure(let slot):
            object["cause_kind"] = .string("failure")
            object["cause_index"] = .int(slot)
        case .spawnFailed(let slot):
            object["cause_kind"] = .string("spawn_failed")
            object["cause_index"] = .int(slot)
        case .allExited:
            object["cause_kind"] = .string("all_exited")
        case .allCompleted:
            object["cause_kind"] = .string("all_completed")
        }
    }

    /// How a process ended: `code`, or `signal` with who sent it; then `clean`, the failure and
    /// the last lines on stderr.
    package static func encodeEnd(_ end: SlotEnd, into object: inout JSONObject) {
        encodeTermination(end.termination, into: &object)
        if case .signaled = end.termination {
            if case .supervisor(let reason)? = end.origin {
                object["sent_by_supervisor"] = .bool(true)
                object["reason"] = .string(reason.rawValue)
            } else {
                object["sent_by_supervisor"] = .bool(false)
            }
            object["stopped_by_operator"] = .bool(end.isStoppedByOperator)
        }
        object["clean"] = .bool(end.isClean)
        if let failure = end.failure {
            encodeFailure(failure, into: &object)
        } else {
            object["failure"] = .null
        }
        object["last_lines"] = .strings(end.lastLines)
    }

    /// `code` for an exit, `signal` and `core_dumped` for a signal, `reaped_elsewhere`.
    package static func encodeTermination(_ termination: Termination, into object: inout JSONObject) {
        switch termination {
        case .exited(let code):
            object["code"] = .int(Int(code))
        case .reapedElsewhere:
            object["code"] = .null
            object["reaped_elsewhere"] = .bool(true)
        case .signaled(let signal, let dumped):
            object["signal"] = .string(signal.name)
            object["core_dumped"] = .bool(dumped)
        }
    }

    /// `failure` (text) and, for programs, `failure_kind` with what the kind carries:
    /// `limit_s` (a timeout), `restarts` and `window_s` (gave up), `spawn_error`, and for a
    /// failure that carries a termination the same fields as an exit (`code`, `signal`).
    package static func encodeFailure(_ failure: SlotFailure, into object: inout JSONObject) {
        object["failure"] = .string(failure.description)
        switch failure {
        case .initFailed(let termination):
            object["failure_kind"] = .string("init_failed")
            if object["code"] == nil && object["signal"] == nil { encodeTermination(termination, into: &object) }
        case .initTimedOut(let limit):
            object["failure_kind"] = .string("init_timed_out")
            object["limit_s"] = .seconds(limit)
        case .exitedUnexpectedly(let termination):
            object["failure_kind"] = .string("exited_unexpectedly")
            if object["code"] == nil && object["signal"] == nil { encodeTermination(termination, into: &object) }
        case .shutdownFailed(let termination):
            object["failure_kind"] = .string("shutdown_failed")
            if object["code"] == nil && object["signal"] == nil { encodeTermination(termination, into: &object) }
        case .killedAfterTimeout(let limit):
            object["failure_kind"] = .string("killed_after_timeout")
            object["limit_s"] = .seconds(limit)
        case .groupKilledAfterTimeout(let limit):
            object["failure_kind"] = .string("group_killed_after_timeout")
            object["limit_s"] = .seconds(limit)
        case .forceKilled:
            object["failure_kind"] = .string("force_killed")
        case .spawnFailed(let reason):
            object["failure_kind"] = .string("spawn_failed")
            object["spawn_error"] = .string(reason)
        case .dependencyFailed(let program):
            object["failure_kind"] = .string("dependency_failed")
            object["dependency"] = .string(program)
        case .gaveUp(let restarts, let window, _):
            object["failure_kind"] = .string("gave_up")
            object["restarts"] = .int(restarts)
            object["window_s"] = .seconds(window)
        }
    }
}
