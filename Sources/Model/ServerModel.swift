import CorralEngine
import Glibc

/// The server as every view of it knows it: the header's facts, one row per slot (state, pid,
/// ends, restarts, the signals sent), the stop under way, how the run ended, and every
/// process's recent output — folded from engine events (``apply(_:now:)``). Pure data, no
/// terminal: the dashboard, the control server (its snapshot and refusals) and the attach
/// client share it.
package struct ServerModel: Sendable {
    /// Program name in the header.
    package var program: String
    /// The command the workers run, shown last in the header (nil for the demo).
    package var command: String?
    /// What each extra process runs, in order (the details view shows it); empty when unknown.
    package var extraCommands: [String] = []
    /// The supervisor's pid.
    package var supervisorPid: pid_t
    /// When the run started (as this process's clock knows it).
    package var startedAt: ContinuousClock.Instant
    /// The server's state.
    package var serverState: ServerState = .starting
    /// One row per slot, by index.
    package var rows: [Row]
    /// The configured grace before `SIGKILL` (nil: forever).
    package var waitTimeout: Duration?
    /// How long a reload waits for a new process to be running before it rolls back (nil: not
    /// known, or no limit).
    package var readyTimeout: Duration?
    /// The configured stop signals; the first is what `q` sends.
    package var stopSignals: [Signal]
    /// The stop under way, if any.
    package var stopping: Stopping?
    /// Every process's output, kept in bounded rings.
    package private(set) var logBook: LogBook
    /// How many worker slots the server runs (what `+` and `-` change).
    package var workerCount: Int
    /// How the run ended, once stopped.
    package var ended: Ended?
    /// A rolling reload is under way.
    package var reloading = false
    /// Lines `--log-dir` dropped because a write failed (0 without log files).
    package var logDroppedLines = 0

    /// The configured slots' names (``SupervisorConfiguration/processName(ofSlot:)``).
    package var names: [ProcessName] = [] {
        didSet { programPositions = Self.positions(names) }
    }
    /// The file a reload reads again, in a run of a file's programs (`corral.toml`); nil otherwise.
    package var programFile: String?
    /// What each program runs, by name, in a run of programs (the details view shows it).
    package var programCommands: [String: String] = [:]
    /// What each program waits for, by name (`migrate (completed-successfully)`).
    package var programDependencies: [String: [String]] = [:]
    /// Each program's position in file order, in a run of several programs (empty otherwise).
    package private(set) var programPositions: [String: Int] = [:]

    private static func positions(_ names: [ProcessName]) -> [String: Int] {
        var positions: [String: Int] = [:]
        for name in names where positions[name.program] == nil { positions[name.program] = positions.count }
        return positions.count > 1 ? positions : [:]
    }

    /// The programs that run now (not removed), in the order they were defined; empty for a run
    /// of one command.
    package var programNames: [String] {
        guard !names.isEmpty else { return [] }
        var seen: Set<String> = []
        return rows.filter { !$0.retired }.compactMap { $0.processName?.program }.filter { seen.insert($0).inserted }
    }

    /// The names of a program's processes that run now (`web.0`, `web.1`).
    package func processNames(ofProgram program: String) -> [String] {
        rows.filter { $0.processName?.program == program && !$0.retired }.map(\.name)
    }

    /// The position in file order of the program of `slot`, in a run of several programs.
    package func programPosition(ofSlot slot: Int) -> Int? {
        guard !programPositions.isEmpty, rows.indices.contains(slot), let program = rows[slot].processName?.program
        else { return nil }
        return programPositions[program]
    }

    /// A model for `workers` workers and `extras` extras; `names`: the configured slots' names
    /// when they are a run of programs'.
    package init(
        program: String = "corral", supervisorPid: pid_t, workers: Int, extras: Int, waitTimeout: Duration?,
        stopSignals: [Signal], startedAt: ContinuousClock.Instant, command: String? = nil,
        logLimits: LogBook.Limits = LogBook.Limits(), names: [ProcessName] = []
    ) {
        self.names = names
        self.programPositions = Self.positions(names)
        self.logBook = LogBook(limits: logLimits)
        self.program = program
        self.command = command
        self.supervisorPid = supervisorPid
        self.startedAt = startedAt
        self.waitTimeout = waitTimeout
        self.stopSignals = stopSignals
        rows = (0..<(workers + extras)).map { Row(index: $0, kind: $0 < workers ? .worker : .extra) }
        for index in rows.indices where index < names.count { rows[index].processName = names[index] }
        workerCount = workers
    }

    /// The name of slot `index` as the table shows it (`worker.2`).
    package func name(_ index: Int) -> String {
        rows.indices.contains(index) ? rows[index].name : "slot \(index)"
    }

    /// Folds one engine event into the state.
    package mutating func apply(_ event: EngineEvent, now: ContinuousClock.Instant) {
        switch event {
        case .spawned(let slot, let pid, let kind, let generation):
            ensureRow(slot, kind: kind)
            if generation > rows[slot].generation {
                // A new generation: what the row said of the ended process goes; the log marks it.
                // Beside a process still running, it is a reload's.
                let isReload = rows[slot].state == .running || rows[slot].state == .initializing
                var previous = rows[slot]
                previous.replacing = []
                rows[slot] = Row(index: slot, kind: kind, restarts: rows[slot].restarts + 1)
                rows[slot].processName = previous.processName
                rows[slot].isReloadGeneration = isReload
                // Among the restarts, those that followed a crash (ended by itself, unasked).
                rows[slot].crashes = previous.crashes + (!isReload && Self.isCrash(previous.end) ? 1 : 0)
                if isReload { rows[slot].replacing = [previous] }
                // Crash evidence survives the restart: how the previous process ended.
                if let end = previous.end {
                    rows[slot].previousEnd = PreviousEnd(
                        generation: previous.generation, pid: previous.pid, end: end, at: previous.endedAt,
                        signals: previous.signals)
                } else {
                    rows[slot].previousEnd = previous.previousEnd
                }
                logBook.append(
                    slot: slot, stream: .stdout, text: "── \(rows[slot].name) generation \(generation), pid \(pid) ──",
                    isMarker: true)
            }
            rows[slot].kind = kind
            rows[slot].pid = pid
            rows[slot].generation = generation
            rows[slot].spawnedAt = now
        case .stateChanged(let slot, let state, _):
            ensureRow(slot, kind: nil)
            if rows[slot].state != state {
                rows[slot].stateSince = now
                rows[slot].history.append(StateChange(state: state, at: now))
                if rows[slot].history.count > Row.historyKept { rows[slot].history.removeFirst() }
            }
            rows[slot].state = state
            if state == .running { rows[slot].replacing = [] }
        case .health(let slot, let generation, let ok, let failures, let detail):
            ensureRow(slot, kind: nil)
            guard generation >= rows[slot].generation else { return }
            rows[slot].healthFailure = ok ? nil : (failures, TerminalText.forDisplay(detail))
        case .reinstated(let slot, let pid, let generation):
            ensureRow(slot, kind: nil)
            if let previous = rows[slot].replacing.first, previous.pid == pid {
                rows[slot] = previous
            } else {
                rows[slot].pid = pid
                rows[slot].generation = generation
                rows[slot].end = nil
                rows[slot].endedAt = nil
            }
            logBook.append(
                slot: slot, stream: .stdout,
                text: "── \(rows[slot].name) generation \(generation), pid \(pid) serves again: reload rolled back ──",
                isMarker: true)
        case .waiting(let slot, let wait, let generation):
            ensureRow(slot, kind: nil)
            guard generation >= rows[slot].generation else { return }
            rows[slot].waiting = (wait, now)
        case .serverStateChanged(let state):
            serverState = state
        case .status(let slot, let text):
            ensureRow(slot, kind: nil)
            rows[slot].status = TerminalText.forDisplay(text)
        case .signalSent(let slot, _, let signal, let reason, let generation):
            ensureRow(slot, kind: nil)
            // A reload's outgoing process (an older generation) is not the row's.
            guard generation >= rows[slot].generation else { return }
            rows[slot].lastSignal = SentSignal(signal: signal, reason: reason, at: now)
            if reason == .scale || reason == .removed { rows[slot].retired = true }
            rows[slot].signals.append(SentSignal(signal: signal, reason: reason, at: now))
            if rows[slot].signals.count > Row.historyKept { rows[slot].signals.removeFirst() }
            if signal == .kill && reason == .timeout { stopping?.deadline = nil }
        case .output(let slot, let stream, let line):
            logBook.append(slot: slot, stream: stream, text: TerminalText.forDisplay(line))
        case .exited(let slot, _, let end, let generation):
            ensureRow(slot, kind: nil)
            guard generation >= rows[slot].generation else { return }
            rows[slot].end = end
            rows[slot].endedAt = now
        case .reload(let progress):
            switch progress {
            case .started: reloading = true
            case .done, .rolledBack: reloading = false
            case .programsRead, .refused: break
            }
        case .scaled(let workers, nil), .scaleRefused(let workers, _, nil):
            workerCount = workers
        case .scaled, .scaleRefused:
            // A program's: the run's processes are every program's that run.
            workerCount = rows.filter { !$0.retired }.count
        case .slotAdded(let slot, let name):
            ensureRow(slot, kind: .worker)
            rows[slot].processName = name
            if slot == names.count { names.append(name) }
        case .failed(let slot, let failure):
            ensureRow(slot, kind: nil)
            rows[slot].failure = failure
            // A slot added by scaling that could not start retires: it never was a worker.
            if case .spawnFailed = failure, rows[slot].pid == nil, serverState == .running { rows[slot].retired = true }
        case .restartScheduled(let slot, _, let attempt, let delay, let reason):
            ensureRow(slot, kind: nil)
            rows[slot].pendingRestart = PendingRestart(at: now + delay, attempt: attempt, reason: reason)
        case .stopping(let signal, let cause, let deadline):
            stopping = Stopping(signal: signal, cause: cause, deadline: deadline, at: now)
        case .stopRepeated, .watchdogEnded, .signalIgnored:
            break
        case .stopped(let report):
            end(Ended(cause: report.causeDescription, exitStatus: report.exitStatus))
        }
    }

    /// Records the end of the run.
    package mutating func end(_ ended: Ended) {
        self.ended = ended
        serverState = .stopped
        stopping?.deadline = nil
    }

    /// Records a sample of every live process tree's CPU and memory, by slot.
    package mutating func updateUsage(_ usage: [Int: ProcessTreeSampler.Usage]) {
        for index in rows.indices { rows[index].usage = usage[index] }
    }

    /// Running processes over the processes the server runs (retired slots not counted), e.g.
    /// `(4, 4)`.
    package var runningCount: (running: Int, total: Int) {
        let live = rows.filter { !$0.retired }
        return (live.filter { $0.state == .running }.count, live.count)
    }

    /// In a run of several programs, each program's running processes over its processes, in
    /// file order: `web 4/4 · worker 2/2`; nil for a run of one program.
    package var programCounts: String? {
        guard !names.isEmpty else { return nil }
        var order: [String] = []
        var counts: [String: (running: Int, total: Int)] = [:]
        for row in rows where !row.retired {
            guard let program = row.processName?.program else { return nil }
            if counts[program] == nil { order.append(program) }
            var count = counts[program] ?? (0, 0)
            count.total += 1
            if row.state == .running { count.running += 1 }
            counts[program] = count
        }
        guard order.count > 1 else { return nil }
        // A program whose every process ended cleanly (a one-shot) is done.
        let done = Set(
            order.filter { name in
                rows.filter { $0.processName?.program == name }.allSatisfy {
                    $0.state == .exited && $0.end?.isClean == true
                }
            })
        return order.compactMap { name in
            done.contains(name) ? "\(name) done" : counts[name].map { "\(name) \($0.running)/\($0.total)" }
        }.joined(separator: " · ")
    }

    /// Processes still alive while stopping: the ones holding the shutdown up.
    package var holdingUp: [Row] {
        guard stopping != nil else { return [] }
        return rows.filter { $0.pid != nil && $0.end == nil }
    }

    /// Whether a process that ended so crashed: by itself, unasked, in its init or running.
    private static func isCrash(_ end: SlotEnd?) -> Bool {
        switch end?.failure {
        case .exitedUnexpectedly?, .initFailed?: return true
        default: return false
        }
    }

    private mutating func ensureRow(_ slot: Int, kind: ChildKind?) {
        while rows.count <= slot { rows.append(Row(index: rows.count, kind: kind ?? .worker)) }
    }
}
