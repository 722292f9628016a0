import CorralEngine
import CorralModel
import Glibc

/// Everything the dashboard shows: the server model (``ServerModel``, folded from engine events)
/// and what is about the screen alone — selection, scrolling, the search, the sort order, the
/// overlay with the keyboard, the one-line message — changed by keys (``KeyBindings``). Pure data:
/// no terminal, no clock of its own. The model's fields read and write through it
/// (`state.rows` is `state.server.rows`).
@dynamicMemberLookup
package struct DashboardState: Sendable {
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

    /// The server as the engine's events describe it.
    package var server: ServerModel
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
    /// A one-line message for the operator (e.g. what the last key did).
    package var message: String?
    /// A viewer attached to a corral elsewhere (`corral attach`): `q` detaches instead of stopping.
    package var attached = false
    /// `q` was pressed in an attached viewer: it leaves, the server keeps running.
    package var detachRequested = false
    /// Whether colour is used (off with `NO_COLOR`).
    package var colors: Bool

    /// A dashboard showing `server`.
    package init(server: ServerModel, colors: Bool = true) {
        self.server = server
        self.colors = colors
    }

    /// A dashboard for `workers` workers and `extras` extras.
    package init(
        program: String = "corral", supervisorPid: pid_t, workers: Int, extras: Int, waitTimeout: Duration?,
        stopSignals: [Signal], colors: Bool = true, startedAt: ContinuousClock.Instant, command: String? = nil,
        logLimits: LogBook.Limits = LogBook.Limits()
    ) {
        self.init(
            server: ServerModel(
                program: program, supervisorPid: supervisorPid, workers: workers, extras: extras,
                waitTimeout: waitTimeout, stopSignals: stopSignals, startedAt: startedAt, command: command,
                logLimits: logLimits),
            colors: colors)
    }

    /// The server model's fields, read and written in place.
    package subscript<Value>(dynamicMember keyPath: WritableKeyPath<ServerModel, Value>) -> Value {
        get { server[keyPath: keyPath] }
        set { server[keyPath: keyPath] = newValue }
    }

    /// The server model's read-only fields (the log).
    package subscript<Value>(dynamicMember keyPath: KeyPath<ServerModel, Value>) -> Value {
        server[keyPath: keyPath]
    }

    /// The name of slot `index` as the table shows it (`worker.2`).
    package func name(_ index: Int) -> String { server.name(index) }

    /// Folds one engine event into the model, and says what the operator should know of it.
    package mutating func apply(_ event: EngineEvent, now: ContinuousClock.Instant) {
        server.apply(event, now: now)
        switch event {
        case .reload(let progress):
            message = progress.description
        case .scaled:
            message = event.description
        case .scaleRefused(_, let reason, _):
            message = "scale refused: \(reason)"
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
        default:
            break
        }
    }

    /// The rows in the order the table shows them (a retired slot only while its process runs).
    package var displayedRows: [ServerModel.Row] {
        let rows = server.rows.filter { !$0.retired || ($0.pid != nil && $0.end == nil) }
        switch sortOrder {
        case .index:
            // A run of programs: grouped by program in file order, each by its process index.
            guard !server.programPositions.isEmpty else { return rows }
            return rows.sorted {
                (server.programPosition(ofSlot: $0.index) ?? 0, $0.processName?.index ?? 0, $0.index)
                    < (server.programPosition(ofSlot: $1.index) ?? 0, $1.processName?.index ?? 0, $1.index)
            }
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
    private static func stateRank(_ row: ServerModel.Row) -> Int {
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

    /// Runs `search` over the log in view; shows the match at `preferred` (a sequence number), or
    /// the newest one.
    package mutating func runSearch(_ search: LogSearch, showing preferred: Int? = nil) {
        // Bounded: the supervisor's loop runs the dashboard, and must never wait long for it.
        let (lines, complete) = server.logBook.search(slot: logView.slot, within: Self.searchLimit, search.matches)
        if !complete {
            message = "search gave up after \(Self.searchLimit.secondsText): these matches are from part of the log"
        }
        let matches = lines.map(\.sequence)
        var current = matches.indices.last
        if let preferred, let index = matches.firstIndex(of: preferred) { current = index }
        self.search = ActiveSearch(search: search, matches: matches, current: current)
        if let current { logView.anchor = matches[current] }
    }

    /// The longest a search may take on the supervisor's loop.
    package static let searchLimit: Duration = .milliseconds(500)

    /// The log pane's lines: at most `limit`, ending where it is scrolled to, oldest first.
    package func visibleLog(limit: Int) -> [LogBook.Line] {
        server.logBook.lines(slot: logView.slot, endingAt: logView.anchor, limit: limit)
    }
}
