import CorralEngine
import CorralModel
import Glibc

/// The snapshot a control connection starts with: the server and every slot as they are now,
/// and the latest output lines; then the events follow. Relative times (`*_s`) are seconds from
/// the snapshot's `time`, so no clock is shared between the two processes.
package enum Snapshot {
    /// The snapshot line (`"event":"snapshot"`) of `state`, with the latest `output`.
    package static func encode(
        _ state: ServerModel, control: String?, output: [RecentOutput.Line], time: String,
        now: ContinuousClock.Instant
    ) -> String {
        var object = body(state, control: control, now: now)
        object["time"] = .string(time)
        object["event"] = .string("snapshot")
        object["output"] = .objects(
            output.map { line in
                var entry = JSONObject()
                entry["time"] = .string(WallClock.iso8601(line.at))
                entry["index"] = .int(line.slot)
                entry["name"] = .string(state.name(line.slot))
                entry["program"] = .string(
                    state.rows.indices.contains(line.slot)
                        ? (state.rows[line.slot].processName?.program ?? state.rows[line.slot].kind.rawValue) : "worker"
                )
                entry["stream"] = .string(line.stream.rawValue)
                entry["line"] = .string(line.text)
                return entry
            })
        return object.encoded
    }

    /// `{"server": {...}, "processes": [...]}`: what `corral ctl status --json` prints.
    package static func body(_ state: ServerModel, control: String?, now: ContinuousClock.Instant) -> JSONObject {
        var body = JSONObject()
        body["server"] = .object(server(state, control: control, now: now))
        body["processes"] = .objects(state.rows.map { process($0, state: state, now: now) })
        return body
    }

    private static func server(_ state: ServerModel, control: String?, now: ContinuousClock.Instant) -> JSONObject {
        var server = JSONObject()
        server["pid"] = .int(Int(state.supervisorPid))
        server["state"] = .string(state.serverState.rawValue)
        server["command"] = state.command.map { .string($0) } ?? .null
        server["workers"] = .int(state.workerCount)
        server["extras"] = .int(state.rows.filter { $0.kind == .extra }.count)
        server["uptime_s"] = .seconds(state.startedAt.duration(to: now))
        server["wait_timeout_s"] = state.waitTimeout.map { .seconds($0) } ?? .null
        server["ready_timeout_s"] = state.readyTimeout.map { .seconds($0) } ?? .null
        server["stop_signals"] = .strings(state.stopSignals.map(\.name))
        server["control"] = control.map { .string($0) } ?? .null
        server["reloading"] = .bool(state.reloading)
        server["log_dropped_lines"] = .int(state.logDroppedLines)
        // A run of programs: their names, and the file a reload reads again.
        if !state.names.isEmpty {
            server["programs"] = .strings(state.programNames)
            server["program_file"] = state.programFile.map { .string($0) } ?? .null
        }
        if let stopping = state.stopping {
            var object = JSONObject()
            object["signal"] = .string(stopping.signal.name)
            EventEncoder(workers: state.workerCount, control: nil).encodeCause(stopping.cause, into: &object)
            object["cause"] = .string(stopping.cause.description(naming: state.name))
            object["deadline_s"] = stopping.deadline.map { .seconds(now.duration(to: $0)) } ?? .null
            object["since_s"] = .seconds(stopping.at.duration(to: now))
            server["stopping"] = .object(object)
        } else {
            server["stopping"] = .null
        }
        if let ended = state.ended {
            var object = JSONObject()
            object["cause"] = .string(ended.cause)
            object["exit_status"] = .int(Int(ended.exitStatus))
            server["ended"] = .object(object)
        }
        return server
    }

    private static func process(
        _ row: ServerModel.Row, state: ServerModel, now: ContinuousClock.Instant
    ) -> JSONObject {
        var object = JSONObject()
        object["index"] = .int(row.index)
        object["name"] = .string(row.name)
        object["program"] = .string(row.processName?.program ?? row.kind.rawValue)
        object["generation"] = .int(row.generation)
        object["pid"] = row.pid.map { .int(Int($0)) } ?? .null
        object["kind"] = .string(row.kind.rawValue)
        object["state"] = .string(row.state.rawValue)
        object["since_s"] = .seconds((row.stateSince ?? state.startedAt).duration(to: now))
        object["status"] = row.status.map { .string($0) } ?? .null
        object["restarts"] = .int(row.restarts)
        object["crashes"] = .int(row.crashes)
        if let previous = row.previousEnd {
            var exit = JSONObject()
            exit["generation"] = .int(previous.generation)
            exit["pid"] = previous.pid.map { .int(Int($0)) } ?? .null
            if let at = previous.at { exit["ended_s"] = .seconds(at.duration(to: now)) }
            EventEncoder.encodeEnd(previous.end, into: &exit)
            exit["signals"] = .objects(
                previous.signals.map { sent in
                    var signal = JSONObject()
                    signal["signal"] = .string(sent.signal.name)
                    signal["reason"] = .string(sent.reason.rawValue)
                    signal["ago_s"] = .seconds(sent.at.duration(to: now))
                    return signal
                })
            object["previous_exit"] = .object(exit)
        }
        if let spawnedAt = row.spawnedAt { object["uptime_s"] = .seconds(spawnedAt.duration(to: row.endedAt ?? now)) }
        if let endedAt = row.endedAt { object["ended_s"] = .seconds(endedAt.duration(to: now)) }
        if let end = row.end {
            var exit = JSONObject()
            EventEncoder.encodeEnd(end, into: &exit)
            object["last_exit"] = .object(exit)
        } else {
            object["last_exit"] = .null
        }
        if let failure = row.failure, row.end?.failure != failure {
            EventEncoder.encodeFailure(failure, into: &object)
        }
        if let sent = row.lastSignal {
            var signal = JSONObject()
            signal["signal"] = .string(sent.signal.name)
            signal["reason"] = .string(sent.reason.rawValue)
            signal["ago_s"] = .seconds(sent.at.duration(to: now))
            object["last_signal"] = .object(signal)
        }
        if row.state == .backoff, let restart = row.pendingRestart {
            object["restart_in_s"] = .seconds(now.duration(to: restart.at))
            object["attempt"] = .int(restart.attempt)
            object["reason"] = .string(restart.reason)
        }
        if let deadline = state.stopping?.deadline, row.pid != nil, row.end == nil {
            object["deadline_s"] = .seconds(now.duration(to: deadline))
        }
        return object
    }

    /// The server model a snapshot describes, as of `now`; nil when it lacks the server.
    package static func state(_ snapshot: WireMessage, now: ContinuousClock.Instant) -> ServerModel? {
        guard let server = snapshot.server, let pid = server.pid else { return nil }
        let processes = snapshot.processes ?? []
        let ago = { (seconds: Double?) in EventDecoder.instant(in: seconds.map { -$0 }, from: now) }
        var state = ServerModel(
            supervisorPid: pid_t(pid), workers: 0, extras: 0,
            waitTimeout: Duration(wireSeconds: server.waitTimeoutS),
            stopSignals: (server.stopSignals ?? []).compactMap { Signal(parsing: $0) },
            startedAt: ago(server.uptimeS) ?? now, command: server.command)
        state.workerCount = server.workers ?? 0
        state.readyTimeout = Duration(wireSeconds: server.readyTimeoutS)
        state.serverState = server.state.flatMap(ServerState.init) ?? .starting
        state.reloading = server.reloading == true
        state.logDroppedLines = server.logDroppedLines ?? 0
        if let stopping = server.stopping, let signal = EventDecoder.signal(stopping.signal),
            let cause = EventDecoder.cause(stopping)
        {
            state.stopping = ServerModel.Stopping(
                signal: signal, cause: cause, deadline: EventDecoder.instant(in: stopping.deadlineS, from: now),
                at: ago(stopping.sinceS) ?? now)
        }
        if let ended = server.ended {
            state.ended = ServerModel.Ended(cause: ended.cause ?? "", exitStatus: Int32(ended.exitStatus ?? 0))
        }
        for process in processes.sorted(by: { ($0.index ?? 0) < ($1.index ?? 0) }) {
            guard let index = process.index, index >= 0, index < 1 << 20 else { continue }
            while state.rows.count <= index { state.rows.append(.init(index: state.rows.count, kind: .worker)) }
            state.rows[index] = row(process, index: index, now: now)
        }
        // Names of a run of programs (a run of one command names its rows worker.N, extra.N).
        if server.programs?.isEmpty == false, state.rows.allSatisfy({ $0.processName != nil }) {
            state.names = state.rows.compactMap(\.processName)
            state.programFile = server.programFile
        }
        for line in snapshot.output ?? [] {
            guard let slot = line.index, let stream = line.stream.flatMap(ChildStream.init), let text = line.line
            else { continue }
            state.apply(.output(slot: slot, stream, line: text), now: now)
        }
        return state
    }

    private static func row(_ process: WireMessage, index: Int, now: ContinuousClock.Instant) -> ServerModel.Row {
        let ago = { (seconds: Double?) in EventDecoder.instant(in: seconds.map { -$0 }, from: now) }
        var row = ServerModel.Row(index: index, kind: process.kind.flatMap(ChildKind.init) ?? .worker)
        if let program = process.program, let name = process.name, let dot = name.lastIndex(of: "."),
            let programIndex = Int(name[name.index(after: dot)...])
        {
            row.processName = ProcessName(program: program, index: programIndex)
        }
        row.pid = process.pid.map { pid_t($0) }
        row.state = process.state.flatMap(ProcessState.init) ?? .pending
        row.stateSince = ago(process.sinceS)
        row.status = process.status
        row.generation = process.generation ?? 0
        row.restarts = process.restarts ?? 0
        row.crashes = process.crashes ?? 0
        if let previous = process.previousExit, let end = EventDecoder.end(previous) {
            row.previousEnd = ServerModel.PreviousEnd(
                generation: previous.generation ?? 0, pid: previous.pid.map { pid_t($0) }, end: end,
                at: ago(previous.endedS),
                signals: (previous.signals ?? []).compactMap { sent in
                    guard let signal = EventDecoder.signal(sent.signal),
                        let reason = sent.reason.flatMap(SignalReason.init)
                    else { return nil }
                    return ServerModel.SentSignal(signal: signal, reason: reason, at: ago(sent.agoS) ?? now)
                })
        }
        row.endedAt = ago(process.endedS)
        row.spawnedAt = process.uptimeS.flatMap { uptime in ago(uptime + (process.endedS ?? 0)) }
        row.end = process.lastExit.flatMap(EventDecoder.end)
        row.failure = EventDecoder.failure(process) ?? row.end?.failure
        if let sent = process.lastSignal, let signal = EventDecoder.signal(sent.signal),
            let reason = sent.reason.flatMap(SignalReason.init)
        {
            row.lastSignal = ServerModel.SentSignal(signal: signal, reason: reason, at: ago(sent.agoS) ?? now)
        }
        if let restartIn = process.restartInS {
            row.pendingRestart = ServerModel.PendingRestart(
                at: EventDecoder.instant(in: restartIn, from: now) ?? now, attempt: process.attempt ?? 1,
                reason: process.reason ?? "")
        }
        return row
    }
}
