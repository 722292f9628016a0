import CorralEngine
import CorralModel

/// The commands a control client sends, one JSON object per line: the same as the dashboard's
/// keys (``SupervisorCommand``). `{"command":"signal","signal":"SIGTERM","index":2}` (no
/// `index`: every process), `{"command":"restart","index":1}`, `{"command":"reload"}`,
/// `{"command":"scale","workers":6}`, `{"command":"stop"}`, `{"command":"kill"}` (with
/// `index`: that process only). `{"command":"unsubscribe"}` stops the events for this client
/// (replies only: what a one-shot client wants), `{"command":"subscribe"}` starts them again
/// with a fresh snapshot. An `id` is echoed in the reply.
package enum ControlRequest {
    /// The names of the commands, for messages.
    package static let names = "signal, restart, reload, scale, stop, kill, subscribe, unsubscribe"

    /// The line that asks for `command`.
    package static func encode(_ command: SupervisorCommand, naming name: String? = nil) -> String {
        var object = JSONObject()
        switch command {
        case .signal(let signal, let target):
            object["command"] = .string("signal")
            object["signal"] = .string(signal.name)
            encode(target, into: &object)
        case .forceKill(let target):
            object["command"] = .string("kill")
            encode(target, into: &object)
        case .stop:
            object["command"] = .string("stop")
        case .restart(let slot):
            object["command"] = .string("restart")
            object["index"] = .int(slot)
        case .scale(let workers):
            object["command"] = .string("scale")
            object["workers"] = .int(workers)
        case .reload, .update:
            object["command"] = .string("reload")
        case .scaleProgram(let program, let workers):
            object["command"] = .string("scale")
            object["program"] = .string(program)
            object["workers"] = .int(workers)
        case .reloadPrograms(let programs):
            object["command"] = .string("reload")
            object["programs"] = .strings(programs)
        }
        if let name {
            object["index"] = nil
            object["name"] = .string(name)
        }
        return object.encoded
    }

    /// `index`, and `generation` for one process of a slot.
    private static func encode(_ target: SlotTarget, into object: inout JSONObject) {
        switch target {
        case .all: break
        case .slot(let index): object["index"] = .int(index)
        case .process(let index, let generation):
            object["index"] = .int(index)
            object["generation"] = .int(generation)
        case .program(let name):
            object["program"] = .string(name)
        }
    }

    /// The one process a request names: its slot (the serving process), or with `generation`
    /// that generation of it; or why there is none.
    private static func target(_ request: WireMessage, index: Int, state: ServerModel) -> Result<SlotTarget, Refusal> {
        guard let generation = request.generation else {
            if let refusal = checkLive(index, state: state, servingOnly: true) { return .failure(refusal) }
            return .success(.slot(index))
        }
        guard state.rows.indices.contains(index) else { return .failure(noSuchProcess(index, state: state)) }
        let row = state.rows[index]
        let candidates = [row] + row.replacing
        guard let process = candidates.first(where: { $0.generation == generation }), process.pid != nil,
            process.end == nil
        else {
            let live = candidates.filter { $0.pid != nil && $0.end == nil }.map { String($0.generation) }
            return .failure(
                Refusal(
                    "\(row.name) has no running process of generation \(generation)"
                        + (live.isEmpty ? "" : " (running: generation \(live.joined(separator: ", ")))")))
        }
        return .success(.process(slot: index, generation: generation))
    }

    /// The engine command a request asks for, checked against the server as `state` shows it;
    /// or why it is refused.
    package static func command(_ request: WireMessage, state: ServerModel) -> Result<SupervisorCommand, Refusal> {
        guard let name = request.command else {
            return .failure(Refusal("a command needs a \"command\" field: \(names)"))
        }
        if state.ended != nil { return .failure(Refusal("the server has stopped")) }
        // A whole program, for the commands that take one: `program`, or a `name` that is one.
        let program = request.program ?? request.name.flatMap { state.programNames.contains($0) ? $0 : nil }
        if let program, name == "signal" || name == "kill" || name == "scale" {
            if let refusal = checkProgram(program, state: state) { return .failure(refusal) }
        }
        let index: Int?
        switch processIndex(request, state: state) {
        case .success(let found): index = found
        case .failure(let refusal):
            guard program != nil, name == "signal" || name == "kill" else { return .failure(refusal) }
            index = nil
        }
        switch name {
        case "signal":
            guard let signalName = request.signal else {
                return .failure(Refusal("signal needs a \"signal\" field, e.g. \"SIGTERM\""))
            }
            guard let signal = Signal(parsing: signalName) else {
                return .failure(Refusal("unknown signal '\(signalName)'; use names like TERM, INT, HUP, USR1"))
            }
            if let program { return .success(.signal(signal, to: .program(program))) }
            guard let index else { return .success(.signal(signal, to: .all)) }
            return target(request, index: index, state: state).map { .signal(signal, to: $0) }
        case "kill":
            if let program { return .success(.forceKill(.program(program))) }
            guard let index else { return .success(.forceKill(.all)) }
            return target(request, index: index, state: state).map { .forceKill($0) }
        case "stop":
            // As q: the first stop signal to every process, which starts the stop (once stopping,
            // a stop asks for nothing more).
            guard state.stopping == nil, let first = state.stopSignals.first else { return .success(.stop) }
            return .success(.signal(first, to: .all))
        case "restart":
            guard let index else { return .failure(Refusal("restart needs an \"index\" or a \"name\"")) }
            guard state.rows.indices.contains(index) else { return .failure(noSuchProcess(index, state: state)) }
            if let refusal = checkNotStopping(state) { return .failure(refusal) }
            if state.rows[index].retired {
                return .failure(Refusal("\(state.rows[index].name) was retired by scaling down: it never runs again"))
            }
            return .success(.restart(slot: index))
        case "reload":
            if let refusal = checkNotStopping(state) { return .failure(refusal) }
            if state.reloading { return .failure(Refusal("a reload is already under way")) }
            if let programs = request.programs, !programs.isEmpty {
                for program in programs {
                    if let refusal = checkProgram(program, state: state) { return .failure(refusal) }
                }
                return .success(.reloadPrograms(programs))
            }
            // A file's run reads its file again, whatever runs.
            if state.programFile != nil { return .success(.reload) }
            guard state.rows.contains(where: { $0.kind == .worker && !$0.retired && $0.state == .running }) else {
                return .failure(Refusal("no worker is running yet: reload once they run"))
            }
            return .success(.reload)
        case "scale":
            guard let workers = request.workers else { return .failure(Refusal("scale needs \"workers\"")) }
            guard (1...SupervisorConfiguration.maximumWorkers).contains(workers) else {
                return .failure(
                    Refusal("workers must be between 1 and \(SupervisorConfiguration.maximumWorkers) (got \(workers))"))
            }
            if let refusal = checkNotStopping(state) { return .failure(refusal) }
            if state.reloading { return .failure(Refusal("a reload is under way: scale once it is done")) }
            if let program { return .success(.scaleProgram(program, workers: workers)) }
            let programs = state.programNames
            if programs.count == 1, let only = programs.first, !state.names.isEmpty {
                return .success(.scaleProgram(only, workers: workers))
            }
            if programs.count > 1 {
                return .failure(
                    Refusal(
                        "name the program to scale: \(programs.map { "\($0)=\(workers)" }.joined(separator: ", "))"))
            }
            return .success(.scale(workers: workers))
        default:
            return .failure(Refusal("unknown command '\(name)': use \(names)"))
        }
    }

    /// Why `program` cannot be addressed: it is not one of the run's programs.
    private static func checkProgram(_ program: String, state: ServerModel) -> Refusal? {
        let programs = state.programNames
        guard !programs.contains(program) else { return nil }
        if programs.isEmpty || state.names.isEmpty {
            return Refusal("no program \(program): this run is one command, not programs")
        }
        return Refusal("no program \(program) (programs: \(programs.joined(separator: ", ")))")
    }

    /// The process a request names: by `index`, or by `name` (`web.1`); nil for none; or why the
    /// name is unknown.
    private static func processIndex(_ request: WireMessage, state: ServerModel) -> Result<Int?, Refusal> {
        guard let name = request.name else { return .success(request.index) }
        // A name taken again after a scale-down names the process that runs now.
        if let row = state.rows.first(where: { $0.name == name && !$0.retired })
            ?? state.rows.first(where: { $0.name == name })
        {
            return .success(row.index)
        }
        let programs = Set(state.rows.compactMap { $0.processName?.program })
        if programs.contains(name) {
            return .failure(Refusal("\(name) is a program: name one of its processes (\(name).0)"))
        }
        let known = state.rows.prefix(8).map(\.name).joined(separator: ", ")
        return .failure(Refusal("no process named \(name) (processes: \(known)\(state.rows.count > 8 ? ", …" : ""))"))
    }

    /// What a granted command does, for its reply (`SIGUSR1 to worker.1`).
    package static func describe(_ command: SupervisorCommand, state: ServerModel) -> String {
        switch command {
        case .signal(let signal, .all): return "\(signal) to every process"
        case .signal(let signal, let target): return "\(signal) to \(reached(target, state: state))"
        case .forceKill(.all): return "SIGKILL to every process group"
        case .forceKill(let target): return "SIGKILL to \(reached(target, state: state))"
        case .stop:
            // The engine's default stop signal: SIGTERM if it is a stop signal, else the first.
            let signal = state.stopSignals.contains(.terminate) ? .terminate : (state.stopSignals.first ?? .terminate)
            return "stopping with \(signal)"
        case .restart(let index): return "restarting \(state.name(index))"
        case .reload, .update:
            if let file = state.programFile { return "reading \(file) again" }
            return "reloading every worker, new before old"
        case .reloadPrograms(let programs):
            let named = programs.map { "\($0) (\(state.processNames(ofProgram: $0).joined(separator: ", ")))" }
            return "reloading \(named.joined(separator: ", ")), new before old"
        case .scaleProgram(let program, let workers):
            return scaleText(program, to: workers, state: state)
        case .scale(let workers):
            var text = "scaling to \(workers) worker\(workers == 1 ? "" : "s")"
            // Three descriptors a process in corral, and a few dozen of its own.
            if let limit = ResourceLimits.openFiles,
                workers + state.rows.count - state.workerCount > (Int(limit) - 64) / 3
            {
                text +=
                    "; RLIMIT_NOFILE (\(limit)) allows about \((Int(limit) - 64) / 3) processes: the workers past it "
                    + "cannot start (raise the hard limit: ulimit -Hn, LimitNOFILE=)"
            }
            return text
        }
    }

    /// `scaling web to 4 processes: web.2, web.3 start`.
    private static func scaleText(_ program: String, to workers: Int, state: ServerModel) -> String {
        let rows = state.rows.filter { $0.processName?.program == program && !$0.retired }
        var text = "scaling \(program) to \(EngineEvent.processes(workers, program))"
        if workers < rows.count {
            let leaving = rows.sorted { $0.index > $1.index }.prefix(rows.count - workers).map(\.name)
            text += ": \(leaving.joined(separator: ", ")) stop"
        } else if workers > rows.count {
            let taken = Set(
                state.rows.filter { $0.processName?.program == program && (!$0.retired || $0.end == nil) }
                    .compactMap { $0.processName?.index })
            var added: [String] = []
            var index = 0
            while added.count < workers - rows.count {
                if !taken.contains(index) { added.append("\(program).\(index)") }
                index += 1
            }
            text += ": \(added.joined(separator: ", ")) start"
        }
        return text
    }

    /// The process a target reaches, named: `worker.1`, or during a reload `worker.1 (pid 4122,
    /// generation 0, the one serving)`.
    private static func reached(_ target: SlotTarget, state: ServerModel) -> String {
        switch target {
        case .all: return "every process"
        case .program(let program):
            return "\(program) (\(state.processNames(ofProgram: program).joined(separator: ", ")))"
        case .slot(let index):
            guard state.rows.indices.contains(index) else { return state.name(index) }
            let row = state.rows[index]
            guard let old = row.replacing.first, row.state != .running, let pid = old.pid else {
                return state.name(index)
            }
            return "\(row.name) (pid \(pid), generation \(old.generation), the one serving; "
                + "generation \(row.generation) starts)"
        case .process(let index, let generation):
            guard state.rows.indices.contains(index) else { return state.name(index) }
            let row = state.rows[index]
            let process = ([row] + row.replacing).first { $0.generation == generation }
            return "\(row.name) (pid \(process?.pid.map(String.init) ?? "-"), generation \(generation))"
        }
    }

    /// Why a request was refused.
    package struct Refusal: Error, Equatable {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private static func noSuchProcess(_ index: Int, state: ServerModel) -> Refusal {
        Refusal("no process \(index): the indices are 0 to \(state.rows.count - 1)")
    }

    private static func checkLive(_ index: Int, state: ServerModel, servingOnly: Bool = false) -> Refusal? {
        guard state.rows.indices.contains(index) else { return noSuchProcess(index, state: state) }
        let row = state.rows[index]
        // During a reload the old process serves while its successor starts.
        if servingOnly, let old = row.replacing.first, row.state != .running, old.pid != nil, old.end == nil {
            return nil
        }
        guard row.pid != nil, row.end == nil, row.state != .exited, row.state != .backoff else {
            return Refusal("\(row.name) is not running (\(row.state))")
        }
        return nil
    }

    private static func checkNotStopping(_ state: ServerModel) -> Refusal? {
        state.stopping == nil ? nil : Refusal("the server is stopping")
    }
}
