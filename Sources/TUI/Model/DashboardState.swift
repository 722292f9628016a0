import CorralEngine
import Glibc

/// Everything the dashboard shows, folded from engine events (``apply(_:now:)``) and changed by
/// keys (``KeyBindings``). Pure data: no terminal, no clock of its own.
package struct DashboardState: Sendable {
    /// One process row.
    package struct Row: Sendable, Equatable {
        /// Slot index.
        package var index: Int
        /// Worker or extra.
        package var kind: ChildKind
        /// Pid once spawned.
        package var pid: pid_t?
        /// Lifecycle state.
        package var state: ProcessState = .pending
        /// When it entered ``state`` (nil: pending since the start).
        package var stateSince: ContinuousClock.Instant?
        /// When it was spawned.
        package var spawnedAt: ContinuousClock.Instant?
        /// When it ended.
        package var endedAt: ContinuousClock.Instant?
        /// Last `STATUS=` text.
        package var status: String?
        /// The last signal the supervisor sent it, why, and when.
        package var lastSignal: SentSignal?
        /// How it ended.
        package var end: SlotEnd?
        /// A failure reported before or without an end (spawn failure, init timeout).
        package var failure: SlotFailure?
        /// The generation of its current (or last) process: 0 for the first.
        package var generation = 0
        /// How many times the restart policy started it again.
        package var restarts = 0
        /// In backoff: when its next generation starts, the attempt, and why it ended.
        package var pendingRestart: PendingRestart?
        /// CPU and memory of its process tree at the last sample (nil: not sampled).
        package var usage: ProcessTreeSampler.Usage?
        /// The states its current process went through, and when (the last ``historyKept``).
        package var history: [StateChange] = []
        /// The signals the supervisor sent its current process (the last ``historyKept``).
        package var signals: [SentSignal] = []
        /// What its starting process waits for, and since when (nil: `READY=1`, or nothing).
        package var waiting: (wait: ReadinessWait, since: ContinuousClock.Instant)?
        /// Its current process is a reload's new generation (rolled back if not running in time).
        package var isReloadGeneration = false
        /// A scale-down retired it: not counted as a worker, and gone from the table once ended.
        package var retired = false
        /// How many of its restarts followed a crash (a process that ended by itself, unasked).
        package var crashes = 0
        /// How the previous generation ended (kept through a restart, as crash evidence).
        package var previousEnd: PreviousEnd?
        /// Its last failed health check (failures in a row, and why) while it has not passed
        /// one since.
        package var healthFailure: (failures: Int, detail: String)?
        /// While a reload's new generation starts: the row of the process it replaces (given
        /// back if the reload rolls back). At most one.
        package var replacing: [Row] = []

        /// How many states and signals a row remembers.
        package static let historyKept = 12

        /// A row for slot `index` of `kind`, pending.
        package init(index: Int, kind: ChildKind, restarts: Int = 0) {
            self.index = index
            self.kind = kind
            self.restarts = restarts
        }

        /// `worker.2`, `extra.4`.
        package var name: String { "\(kind).\(index)" }

        /// Equal when every field is (the waiting record compared by its parts).
        package static func == (lhs: Row, rhs: Row) -> Bool {
            lhs.index == rhs.index && lhs.kind == rhs.kind && lhs.pid == rhs.pid && lhs.state == rhs.state
                && lhs.stateSince == rhs.stateSince && lhs.spawnedAt == rhs.spawnedAt && lhs.endedAt == rhs.endedAt
                && lhs.status == rhs.status && lhs.lastSignal == rhs.lastSignal && lhs.end == rhs.end
                && lhs.failure == rhs.failure && lhs.generation == rhs.generation && lhs.restarts == rhs.restarts
                && lhs.pendingRestart == rhs.pendingRestart && lhs.usage == rhs.usage && lhs.history == rhs.history
                && lhs.signals == rhs.signals && lhs.waiting?.wait == rhs.waiting?.wait
                && lhs.waiting?.since == rhs.waiting?.since && lhs.isReloadGeneration == rhs.isReloadGeneration
                && lhs.retired == rhs.retired && lhs.replacing == rhs.replacing
                && lhs.crashes == rhs.crashes && lhs.previousEnd == rhs.previousEnd
                && lhs.healthFailure?.failures == rhs.healthFailure?.failures
                && lhs.healthFailure?.detail == rhs.healthFailure?.detail
        }
    }

    /// How a slot's previous process ended: what a restart keeps of it.
    package struct PreviousEnd: Sendable, Equatable {
        /// Its generation and pid.
        package var generation: Int
        package var pid: pid_t?
        /// How it ended (with its last stderr lines), and when.
        package var end: SlotEnd
        package var at: ContinuousClock.Instant?
        /// The signals the supervisor sent it, and why.
        package var signals: [SentSignal]

        /// Creates the record.
        package init(
            generation: Int, pid: pid_t?, end: SlotEnd, at: ContinuousClock.Instant?, signals: [SentSignal]
        ) {
            self.generation = generation
            self.pid = pid
            self.end = end
            self.at = at
            self.signals = signals
        }
    }

    /// A state a process entered, and when.
    package struct StateChange: Sendable, Equatable {
        /// The state.
        package var state: ProcessState
        /// When.
        package var at: ContinuousClock.Instant
    }

    /// A restart the policy scheduled.
    package struct PendingRestart: Sendable, Equatable {
        /// When the next generation starts.
        package var at: ContinuousClock.Instant
        /// The restart's number in its streak (1 for the first).
        package var attempt: Int
        /// How the process ended.
        package var reason: String

        /// Creates the record.
        package init(at: ContinuousClock.Instant, attempt: Int, reason: String) {
            self.at = at
            self.attempt = attempt
            self.reason = reason
        }
    }

    /// How the run ended, once it did.
    package struct Ended: Sendable, Equatable {
        /// Why the server stopped (`SIGTERM received`, `worker.1 failed`).
        package var cause: String
        /// corral's exit status.
        package var exitStatus: Int32

        /// Creates the record.
        package init(cause: String, exitStatus: Int32) {
            self.cause = cause
            self.exitStatus = exitStatus
        }
    }

    /// A signal the supervisor sent.
    package struct SentSignal: Sendable, Equatable {
        /// The signal.
        package var signal: Signal
        /// Why.
        package var reason: SignalReason
        /// When.
        package var at: ContinuousClock.Instant

        /// Creates the record.
        package init(signal: Signal, reason: SignalReason, at: ContinuousClock.Instant) {
            self.signal = signal
            self.reason = reason
            self.at = at
        }
    }

    /// The stop under way.
    package struct Stopping: Sendable, Equatable {
        /// The signal sent to every child.
        package var signal: Signal
        /// Why the server stops.
        package var cause: StopCause
        /// When the remaining children get `SIGKILL`, or nil (waiting forever, or already killed).
        package var deadline: ContinuousClock.Instant?
        /// When the stop began.
        package var at: ContinuousClock.Instant

        /// Creates the record.
        package init(signal: Signal, cause: StopCause, deadline: ContinuousClock.Instant?, at: ContinuousClock.Instant)
        {
            self.signal = signal
            self.cause = cause
            self.deadline = deadline
            self.at = at
        }
    }

    /// What the log pane shows: whose log, and where.
    package struct LogView: Sendable, Equatable {
        /// One process's log alone (`l`), or nil for every process's.
        package var slot: Int?
        /// The sequence number of the bottom line while scrolled back; nil: following the newest.
        package var anchor: Int?

        /// Following the newest lines.
        package var isFollowing: Bool { anchor == nil }
    }

    /// A search the operator ran (`/`): the pattern, the matching lines, and which one is shown.
    package struct ActiveSearch: Sendable {
        /// What is looked for.
        package var search: LogSearch
        /// The sequence numbers of the matching lines, oldest first.
        package var matches: [Int]
        /// The index in ``matches`` of the one shown, if any.
        package var current: Int?
    }

    /// How the table is ordered (`o` cycles).
    package enum SortOrder: String, Sendable, CaseIterable {
        /// By slot index.
        case index
        /// Busiest first.
        case cpu
        /// Largest first.
        case memory
        /// Most restarted first.
        case restarts
        /// By state: failed and backoff first, running last.
        case state
    }

    /// Which screen or overlay has the keyboard.
    package enum Mode: Sendable, Equatable {
        /// The table; keys act on processes.
        case normal
        /// The help screen.
        case help
        /// The signal menu for the selected process, with the highlighted entry.
        case signalMenu(selection: Int)
        /// "Force-kill everything?" waiting for y/n.
        case confirmForceKill
        /// "SIGKILL this process?" (from the signal menu) waiting for y/n.
        case confirmKill(slot: Int)
        /// `/`: a search pattern being typed.
        case search(query: String)
        /// `d`: the details of one process.
        case detail(slot: Int)
    }

    /// Signals the per-process menu offers.
    package static let menuSignals: [Signal] = [.interrupt, .terminate, .kill, .hangup, .user1, .user2]

    /// Program name in the header.
    package var program: String
    /// The command the workers run, shown last in the header (nil for the demo).
    package var command: String?
    /// What each extra process runs, in order (the details view shows it); empty when unknown.
    package var extraCommands: [String] = []
    /// The supervisor's pid.
    package var supervisorPid: pid_t
    /// When the dashboard started.
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
    /// What the log pane shows.
    package var logView = LogView()
    /// Lines the log pane shows at the current size (a page for PgUp / PgDn).
    package var logPageSize = 10
    /// The search in force (its matches are highlighted), if any.
    package var search: ActiveSearch?
    /// How the table is ordered.
    package var sortOrder = SortOrder.index
    /// The selected row.
    package var selected = 0
    /// What has the keyboard.
    package var mode: Mode = .normal
    /// `q` was pressed once: the next `q` force-kills.
    package var quitPressed = false
    /// How many worker slots the server runs (what `+` and `-` change).
    package var workerCount: Int
    /// A one-line message for the operator (e.g. what the last key did).
    package var message: String?
    /// How the run ended, once stopped.
    package var ended: Ended?
    /// A rolling reload is under way.
    package var reloading = false
    /// A viewer attached to a corral elsewhere (`corral attach`): `q` detaches instead of stopping.
    package var attached = false
    /// `q` was pressed in an attached viewer: it leaves, the server keeps running.
    package var detachRequested = false
    /// Whether colour is used (off with `NO_COLOR`).
    package var colors: Bool

    /// A dashboard for `workers` workers and `extras` extras.
    package init(
        program: String = "corral", supervisorPid: pid_t, workers: Int, extras: Int, waitTimeout: Duration?,
        stopSignals: [Signal], colors: Bool = true, startedAt: ContinuousClock.Instant, command: String? = nil,
        logLimits: LogBook.Limits = LogBook.Limits()
    ) {
        self.logBook = LogBook(limits: logLimits)
        self.program = program
        self.command = command
        self.supervisorPid = supervisorPid
        self.startedAt = startedAt
        self.waitTimeout = waitTimeout
        self.stopSignals = stopSignals
        self.colors = colors
        rows = (0..<(workers + extras)).map { Row(index: $0, kind: $0 < workers ? .worker : .extra) }
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
                    slot: slot, stream: .stdout, text: "── \(kind).\(slot) generation \(generation), pid \(pid) ──",
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
            if reason == .scale { rows[slot].retired = true }
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
            if case .started = progress { reloading = true } else { reloading = false }
            message = progress.description
        case .scaled(let workers):
            workerCount = workers
            message = "scaled to \(workers) worker\(workers == 1 ? "" : "s")"
        case .scaleRefused(let workers, let reason):
            workerCount = workers
            message = "scale refused: \(reason)"
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
        case .stopRepeated(let signal, let deadline):
            let left = deadline.map { "SIGKILL in \(now.duration(to: $0).countdownText)" }
            message = "\(signal) again: already stopping, nothing sent twice; \(left ?? "no time limit"); q force-kills"
        case .watchdogEnded(let pid, let replacement):
            message =
                "the watchdog (pid \(pid)) ended: "
                + (replacement.map { "replaced by pid \($0)" } ?? "none could be started")
        case .signalIgnored(let signal):
            message =
                signal.rawValue == SIGTSTP
                ? "Ctrl-Z ignored: a suspended corral would leave its workers unsupervised; q stops"
                : "\(signal) ignored"
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

    /// The rows in the order the table shows them (a retired slot only while its process runs).
    package var displayedRows: [Row] {
        let rows = rows.filter { !$0.retired || ($0.pid != nil && $0.end == nil) }
        switch sortOrder {
        case .index: return rows
        case .cpu:
            return rows.sorted { ($0.usage?.cpuPercent ?? -1, -$0.index) > ($1.usage?.cpuPercent ?? -1, -$1.index) }
        case .memory:
            return rows.sorted {
                ($0.usage?.residentBytes ?? -1, -$0.index) > ($1.usage?.residentBytes ?? -1, -$1.index)
            }
        case .restarts: return rows.sorted { ($0.restarts, -$0.index) > ($1.restarts, -$1.index) }
        case .state: return rows.sorted { (Self.stateRank($0), $0.index) < (Self.stateRank($1), $1.index) }
        }
    }

    /// Trouble first: failed, backoff, stopped, stopping, initializing, pending, running, exited.
    private static func stateRank(_ row: Row) -> Int {
        if row.end?.isClean == false || row.failure != nil { return 0 }
        if row.usage?.isStopped == true { return 2 }
        switch row.state {
        case .backoff, .unhealthy: return 1
        case .stopping: return 3
        case .initializing: return 4
        case .pending: return 5
        case .running: return 6
        case .exited: return 7
        }
    }

    /// Running processes over the processes the server runs (retired slots not counted), e.g.
    /// `(4, 4)`.
    package var runningCount: (running: Int, total: Int) {
        let live = rows.filter { !$0.retired }
        return (live.filter { $0.state == .running }.count, live.count)
    }

    /// Processes still alive while stopping: the ones holding the shutdown up.
    package var holdingUp: [Row] {
        guard stopping != nil else { return [] }
        return rows.filter { $0.pid != nil && $0.end == nil }
    }

    /// Runs `search` over the log in view; shows the match at `preferred` (a sequence number), or
    /// the newest one.
    package mutating func runSearch(_ search: LogSearch, showing preferred: Int? = nil) {
        // Bounded: the supervisor's loop runs the dashboard, and must never wait long for it.
        let (lines, complete) = logBook.search(slot: logView.slot, within: Self.searchLimit, search.matches)
        if !complete {
            message = "search gave up after \(Self.searchLimit.secondsText): these matches are from part of the log"
        }
        let matches = lines.map(\.sequence)
        var current = matches.indices.last
        if let preferred, let index = matches.firstIndex(of: preferred) { current = index }
        self.search = ActiveSearch(search: search, matches: matches, current: current)
        if let current { logView.anchor = matches[current] }
    }

    /// Whether a process that ended so crashed: by itself, unasked, in its init or running.
    private static func isCrash(_ end: SlotEnd?) -> Bool {
        switch end?.failure {
        case .exitedUnexpectedly?, .initFailed?: return true
        default: return false
        }
    }

    /// The longest a search may take on the supervisor's loop.
    package static let searchLimit: Duration = .milliseconds(500)

    /// The log pane's lines: at most `limit`, ending where it is scrolled to, oldest first.
    package func visibleLog(limit: Int) -> [LogBook.Line] {
        logBook.lines(slot: logView.slot, endingAt: logView.anchor, limit: limit)
    }

    private mutating func ensureRow(_ slot: Int, kind: ChildKind?) {
        while rows.count <= slot { rows.append(Row(index: rows.count, kind: kind ?? .worker)) }
    }
}
