import CorralEngine
import CorralModel

/// A key the dashboard understands, decoded from the terminal by the backend.
package enum Key: Equatable, Sendable {
    /// A printable character.
    case character(Character)
    /// Arrow up / `k`.
    case up
    /// Arrow down / `j`.
    case down
    /// Enter / Return.
    case enter
    /// Escape.
    case escape
    /// Page Up.
    case pageUp
    /// Page Down.
    case pageDown
    /// Home.
    case home
    /// End.
    case end
    /// The mouse wheel turned up (towards older lines).
    case wheelUp
    /// The mouse wheel turned down.
    case wheelDown
    /// Backspace.
    case backspace
}

/// `key + state -> commands`: what a key does to the view state and which engine commands it
/// sends. Pure; tested without a terminal.
package enum KeyBindings {
    /// Applies `key` to `state` and returns the commands for the engine.
    package static func handle(_ key: Key, state: inout DashboardState) -> [SupervisorCommand] {
        switch state.mode {
        case .help:
            state.mode = .normal
            return []
        case .confirmForceKill:
            state.mode = .normal
            if key == .character("y") || key == .character("Y") {
                state.message = "force-killing every process"
                return [.forceKill(.all)]
            }
            state.message = "force-kill cancelled"
            return []
        case .confirmKill(let slot):
            state.mode = .normal
            guard key == .character("y") || key == .character("Y"), state.rows.indices.contains(slot) else {
                state.message = "SIGKILL cancelled"
                return []
            }
            state.message = "SIGKILL to \(state.rows[slot].name)"
            return [.forceKill(.slot(slot))]
        case .signalMenu(let selection):
            return handleMenu(key, selection: selection, state: &state)
        case .search(let query):
            handleSearchTyping(key, query: query, state: &state)
            return []
        case .detail:
            // Any key closes the details; ↑ ↓ move to the next process's.
            switch key {
            case .up, .character("k"):
                moveSelection(by: -1, &state)
                state.mode = .detail(slot: state.selected)
            case .down, .character("j"):
                moveSelection(by: 1, &state)
                state.mode = .detail(slot: state.selected)
            default:
                state.mode = .normal
            }
            return []
        case .normal:
            return handleNormal(key, state: &state)
        }
    }

    private static func handleNormal(_ key: Key, state: inout DashboardState) -> [SupervisorCommand] {
        state.message = nil
        switch key {
        case .up, .character("k"): moveSelection(by: -1, &state)
        case .down, .character("j"): moveSelection(by: 1, &state)
        case .character("o"):
            let orders = DashboardState.SortOrder.allCases
            let next = ((orders.firstIndex(of: state.sortOrder) ?? 0) + 1) % orders.count
            state.sortOrder = orders[next]
            state.message = "sorted by \(state.sortOrder.rawValue)"
        case .character("i"):
            state.message = "SIGINT to every process"
            return [.signal(.interrupt, to: .all)]
        case .character("t"):
            state.message = "SIGTERM to every process"
            return [.signal(.terminate, to: .all)]
        case .character("K"):
            state.mode = .confirmForceKill
        case .character("s"), .enter:
            if state.rows.indices.contains(state.selected), state.rows[state.selected].pid != nil,
                state.rows[state.selected].end == nil
            {
                state.mode = .signalMenu(selection: 0)
            } else {
                state.message = "no live process selected"
            }
        case .character("r"):
            guard state.rows.indices.contains(state.selected), state.rows[state.selected].pid != nil else {
                state.message = "no process selected to restart"
                return []
            }
            state.message = "restarting \(state.rows[state.selected].name)"
            return [.restart(slot: state.selected)]
        case .character("R"):
            if let program = selectedProgram(state) {
                state.message = "reloading \(program), new before old"
                return [.reloadPrograms([program])]
            }
            state.message = "reloading every worker, new before old"
            return [.reload]
        case .character("+") where selectedProgram(state) != nil, .character("-") where selectedProgram(state) != nil:
            guard let program = selectedProgram(state) else { return [] }
            let count = state.server.processNames(ofProgram: program).count
            let wanted = key == .character("+") ? count + 1 : count - 1
            guard (1...SupervisorConfiguration.maximumWorkers).contains(wanted) else {
                state.message =
                    wanted < 1
                    ? "one process is the fewest for \(program); q stops the server"
                    : "already \(count) processes of \(program), the most corral runs"
                return []
            }
            state.message = "scaling \(program) to \(wanted)"
            return [.scaleProgram(program, workers: wanted)]
        case .character("+"):
            guard state.workerCount < SupervisorConfiguration.maximumWorkers else {
                state.message = "already \(state.workerCount) workers, the most corral runs"
                return []
            }
            state.message = "scaling to \(state.workerCount + 1) workers"
            return [.scale(workers: state.workerCount + 1)]
        case .character("-"):
            guard state.workerCount > 1 else {
                state.message = "one worker is the fewest; q stops the server"
                return []
            }
            state.message = "scaling to \(state.workerCount - 1) worker\(state.workerCount == 2 ? "" : "s")"
            return [.scale(workers: state.workerCount - 1)]
        case .pageUp: scrollLog(back: state.logPageSize, &state)
        case .wheelUp: scrollLog(back: 3, &state)
        case .pageDown: scrollLog(forward: state.logPageSize, &state)
        case .wheelDown: scrollLog(forward: 3, &state)
        case .end, .character("G"): state.logView.anchor = nil
        case .home, .character("g"):
            let kept = state.logBook.count(slot: state.logView.slot)
            state.logView.anchor = state.logBook.sequence(
                slot: state.logView.slot, before: nil, distance: max(0, kept - state.logPageSize))
            if kept <= state.logPageSize { state.logView.anchor = nil }
        case .character("l"):
            if state.logView.slot != nil {
                state.logView = DashboardState.LogView()
            } else if state.rows.indices.contains(state.selected) {
                state.logView = DashboardState.LogView(slot: state.selected, anchor: nil)
            }
        case .character("/"):
            state.mode = .search(query: "")
        case .character("d"):
            if state.rows.indices.contains(state.selected) { state.mode = .detail(slot: state.selected) }
        case .character("n") where state.search != nil:
            stepSearch(older: true, &state)
        case .character("N") where state.search != nil:
            stepSearch(older: false, &state)
        case .escape where state.search != nil:
            state.search = nil
            state.logView.anchor = nil
        case .character("?"), .character("h"):
            state.mode = .help
        case .character("q") where state.attached:
            state.detachRequested = true
            state.message = "detached: the server keeps running"
        case .character("q"):
            if state.quitPressed {
                state.message = "force-killing every process"
                return [.forceKill(.all)]
            }
            state.quitPressed = true
            let signal = state.stopSignals.first ?? .terminate
            state.message = "stopping with \(signal); press q again to force-kill"
            return [.signal(signal, to: .all)]
        default:
            break
        }
        return []
    }

    /// In a run of programs, the program of the selected process.
    private static func selectedProgram(_ state: DashboardState) -> String? {
        guard !state.server.names.isEmpty, state.rows.indices.contains(state.selected) else { return nil }
        return state.rows[state.selected].processName?.program
    }

    /// Moves the selection `step` rows in the order the table shows them.
    private static func moveSelection(by step: Int, _ state: inout DashboardState) {
        let order = state.displayedRows.map(\.index)
        guard let position = order.firstIndex(of: state.selected) else {
            state.selected = order.first ?? 0
            return
        }
        state.selected = order[min(max(0, position + step), order.count - 1)]
    }

    /// Typing a search pattern: Enter searches, Esc cancels, Backspace takes a character back.
    private static func handleSearchTyping(_ key: Key, query: String, state: inout DashboardState) {
        switch key {
        case .character(let character): state.mode = .search(query: query + String(character))
        case .backspace: state.mode = .search(query: String(query.dropLast()))
        case .escape: state.mode = .normal
        case .enter:
            state.mode = .normal
            do {
                state.runSearch(try LogSearch(query))
                if state.search?.matches.isEmpty == true { state.message = "no match for '\(query)'" }
            } catch {
                state.message = error.message
            }
        default: break
        }
    }

    /// `n` / `N`: the next older or newer match (the search runs again, so new lines count).
    private static func stepSearch(older: Bool, _ state: inout DashboardState) {
        guard let active = state.search else { return }
        let shown = active.current.map { active.matches[$0] }
        state.runSearch(active.search, showing: shown)
        guard var search = state.search, let current = search.current else {
            state.message = "no match for '\(active.search.pattern)'"
            return
        }
        let next = older ? current - 1 : current + 1
        guard search.matches.indices.contains(next) else {
            state.message = older ? "no older match" : "no newer match"
            return
        }
        search.current = next
        state.search = search
        state.logView.anchor = search.matches[next]
    }

    /// Scrolls the log pane `lines` back: it stops following.
    private static func scrollLog(back lines: Int, _ state: inout DashboardState) {
        let slot = state.logView.slot
        guard let newest = state.logBook.newest(slot: slot) else { return }
        // Not past the oldest page: the top line stays the oldest kept one.
        let newer = state.logView.anchor.map { state.logBook.countAfter($0, slot: slot) } ?? 0
        let total = state.logBook.count(slot: slot)
        let distance = min(newer + lines, max(0, total - state.logPageSize))
        guard distance > 0 else { return }
        state.logView.anchor = state.logBook.sequence(slot: slot, before: newest, distance: distance)
    }

    /// Scrolls the log pane `lines` forward; at the newest it follows again.
    private static func scrollLog(forward lines: Int, _ state: inout DashboardState) {
        guard let anchor = state.logView.anchor else { return }
        let slot = state.logView.slot
        let newer = state.logBook.countAfter(anchor, slot: slot)
        if newer <= lines {
            state.logView.anchor = nil
        } else {
            state.logView.anchor = state.logBook.sequence(slot: slot, before: nil, distance: newer - lines)
        }
    }

    private static func handleMenu(_ key: Key, selection: Int, state: inout DashboardState) -> [SupervisorCommand] {
        let count = DashboardState.menuSignals.count
        switch key {
        case .up, .character("k"):
            state.mode = .signalMenu(selection: (selection + count - 1) % count)
        case .down, .character("j"):
            state.mode = .signalMenu(selection: (selection + 1) % count)
        case .enter, .character(" "):
            state.mode = .normal
            let signal = DashboardState.menuSignals[selection]
            let row = state.rows[state.selected]
            if signal == .kill {
                state.mode = .confirmKill(slot: row.index)
                return []
            }
            state.message = "\(signal) to \(row.name)"
            return [.signal(signal, to: .slot(row.index))]
        case .escape, .character("q"):
            state.mode = .normal
        default:
            break
        }
        return []
    }
}
