import CorralEngine
import CorralModel

/// `state + size + now -> screen`: draws the dashboard into a ``ScreenBuffer``. Pure; the time is
/// passed in so countdowns render the same in tests.
package enum DashboardView {
    /// The smallest terminal the layout fits.
    package static let minimumSize = (width: 64, height: 12)

    /// Renders `state` for a terminal of `width` × `height` at time `now`.
    package static func render(_ state: DashboardState, width: Int, height: Int, now: ContinuousClock.Instant)
        -> ScreenBuffer
    {
        var screen = ScreenBuffer(width: width, height: height)
        guard width >= minimumSize.width, height >= minimumSize.height else {
            drawTooSmall(&screen)
            return screen
        }
        let palette = Palette(colors: state.colors)
        drawHeader(state, &screen, now: now, palette: palette)
        drawStopLine(state, &screen, now: now, palette: palette)
        let legendRow = height - 1
        let messageRow = height - 2
        let (tableRows, logTop) = layout(state, height: height)
        drawTable(state, &screen, top: 2, rows: tableRows, now: now, palette: palette)
        drawLog(state, &screen, top: logTop, bottom: messageRow - 1, palette: palette)
        drawScrollHint(state, &screen, tableRows: tableRows, separatorRow: logTop, palette: palette)
        if case .search(let query) = state.mode {
            let prompt = " /" + query
            let written = screen.put(prompt, row: messageRow, column: 0, style: palette.accent)
            screen.put("█", row: messageRow, column: written, style: palette.accent)
            screen.put(
                "  Enter searches · Esc cancels · re: for a regular expression", row: messageRow, column: written + 1,
                style: palette.dim)
        } else if let message = state.message {
            screen.put(" " + message, row: messageRow, column: 0, style: palette.accent)
        }
        screen.fill(row: legendRow, style: palette.bar)
        screen.put(" " + KeyHelp.legend(attached: state.attached), row: legendRow, column: 0, style: palette.bar)
        switch state.mode {
        case .normal, .search: break
        case .help: drawHelp(state, &screen, palette: palette)
        case .signalMenu(let selection): drawSignalMenu(state, selection: selection, &screen, palette: palette)
        case .detail(let slot):
            if state.rows.indices.contains(slot) {
                drawBox(
                    DetailView.lines(state.rows[slot], state: state, now: now), title: "details",
                    &screen, palette: palette)
            }
        case .confirmForceKill:
            drawBox(
                ["Force-kill every process (SIGKILL to each process group)?", "", "y: yes    any other key: no"],
                title: "confirm", &screen, palette: palette)
        case .confirmKill(let slot):
            let name = state.rows.indices.contains(slot) ? state.rows[slot].name : "slot \(slot)"
            drawBox(
                ["SIGKILL \(name) and its process group?", "", "y: yes    any other key: no"],
                title: "confirm", &screen, palette: palette)
        }
        return screen
    }

    /// The table's rows and the log pane's title row: the table gets what it needs, up to two
    /// thirds of the space; the log the rest.
    static func layout(_ state: DashboardState, height: Int) -> (tableRows: Int, logTop: Int) {
        let available = height - 5
        let tableRows = min(state.displayedRows.count, max(3, available * 2 / 3), available - 2)
        return (tableRows, 3 + tableRows)
    }

    /// How many log lines show at `height` (a page for PgUp / PgDn).
    package static func logLines(_ state: DashboardState, height: Int) -> Int {
        max(1, height - 3 - layout(state, height: height).logTop)
    }

    // MARK: - Parts

    private static func drawTooSmall(_ screen: inout ScreenBuffer) {
        let message = "terminal too small: need \(minimumSize.width)×\(minimumSize.height)"
        guard screen.width > 0, screen.height > 0 else { return }
        var lines: [String] = []
        var rest = Substring(message)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(screen.width)))
            rest = rest.dropFirst(screen.width)
        }
        let top = max(0, (screen.height - lines.count) / 2)
        for (offset, line) in lines.enumerated() where top + offset < screen.height {
            screen.put(line, row: top + offset, column: max(0, (screen.width - line.count) / 2))
        }
    }

    private static func drawHeader(
        _ state: DashboardState, _ screen: inout ScreenBuffer, now: ContinuousClock.Instant, palette: Palette
    ) {
        screen.fill(row: 0, style: palette.bar)
        let (running, total) = state.runningCount
        let parts =
            [
                state.program, "pid \(state.supervisorPid)", "up \(TimeText.uptime(state.startedAt.duration(to: now)))",
                state.serverState.rawValue, state.server.programCounts ?? "\(running)/\(total) running",
                "wait timeout \(TimeText.timeout(state.waitTimeout))",
            ] + (state.command.map { [TerminalText.forDisplay($0)] } ?? [])
        screen.put(" " + parts.joined(separator: " · "), row: 0, column: 0, style: palette.bar)
    }

    private static func drawStopLine(
        _ state: DashboardState, _ screen: inout ScreenBuffer, now: ContinuousClock.Instant, palette: Palette
    ) {
        if state.serverState == .stopped {
            let cause =
                state.ended?.cause ?? state.stopping.map { $0.cause.description(naming: state.name) } ?? ""
            screen.put(" stopped: \(cause)", row: 1, column: 0, style: palette.warning)
            return
        }
        guard let stopping = state.stopping else {
            screen.put(
                " stop signals: " + state.stopSignals.map(\.name).joined(separator: ", "), row: 1, column: 0,
                style: palette.dim)
            return
        }
        var text = " stopping with \(stopping.signal): \(stopping.cause.summary(naming: state.name))"
        if let deadline = stopping.deadline {
            text += " · SIGKILL in \(now.duration(to: deadline).countdownText)"
        } else if stopping.signal != .kill, state.waitTimeout == nil {
            text += " · waiting without a time limit"
        }
        let holding = state.holdingUp.map(\.name)
        if !holding.isEmpty {
            text += " · waiting for " + holding.prefix(12).joined(separator: ", ") + (holding.count > 12 ? ", …" : "")
        }
        screen.put(text, row: 1, column: 0, style: palette.warning)
    }

    private static func drawTable(
        _ state: DashboardState, _ screen: inout ScreenBuffer, top: Int, rows: Int, now: ContinuousClock.Instant,
        palette: Palette
    ) {
        let layout = TableColumns.layout(width: screen.width)
        for (kind, column) in layout.columns {
            var heading = kind.heading
            if sortKey(kind) == state.sortOrder, state.sortOrder != .index { heading += "▼" }
            screen.put(heading, row: top, column: column, style: palette.heading)
        }
        screen.put(
            "STATUS / EXIT" + (state.sortOrder == .state ? " (by state)" : ""), row: top, column: layout.status,
            style: palette.heading)
        guard rows > 0 else { return }
        let displayed = state.displayedRows
        let first = firstVisibleRow(state, displayed: displayed, rows: rows)
        for (offset, row) in displayed.dropFirst(first).prefix(rows).enumerated() {
            let y = top + 1 + offset
            drawRow(row, layout: layout, readyTimeout: state.readyTimeout, &screen, y: y, now: now, palette: palette)
            if row.index == state.selected {
                screen.put(">", row: y, column: 0, style: palette.heading)
                screen.restyle(row: y) { $0.reverse = true }
            }
        }
    }

    /// The sort order a column's heading marks.
    private static func sortKey(_ kind: TableColumns.Kind) -> DashboardState.SortOrder? {
        switch kind {
        case .cpu: return .cpu
        case .memory: return .memory
        case .restarts: return .restarts
        case .state: return .state
        default: return nil
        }
    }

    /// The first row shown when only `rows` fit: scrolled so the selected row is visible.
    private static func firstVisibleRow(_ state: DashboardState, displayed: [ServerModel.Row], rows: Int) -> Int {
        let position = displayed.firstIndex { $0.index == state.selected } ?? 0
        return min(max(0, position - rows + 1), max(0, displayed.count - rows))
    }

    private static func drawScrollHint(
        _ state: DashboardState, _ screen: inout ScreenBuffer, tableRows: Int, separatorRow: Int, palette: Palette
    ) {
        let displayed = state.displayedRows
        guard tableRows < displayed.count else { return }
        let first = firstVisibleRow(state, displayed: displayed, rows: tableRows)
        let range = " processes \(first + 1)-\(first + tableRows) of \(displayed.count) (↑↓ scrolls) "
        // At the right end of the log's title row, where the title leaves room.
        let titleEnd = 7 + logTitle(state).count + 1
        let column = screen.width - range.count - 1
        guard column > titleEnd else { return }
        screen.put(range, row: separatorRow, column: column, style: palette.dim)
    }

    private static func drawRow(
        _ row: ServerModel.Row, layout: (columns: [(TableColumns.Kind, Int)], status: Int),
        readyTimeout: Duration?, _ screen: inout ScreenBuffer, y: Int, now: ContinuousClock.Instant, palette: Palette
    ) {
        let failed = row.end?.isClean == false || row.failure != nil
        let live = row.pid != nil && row.end == nil
        for (kind, column) in layout.columns {
            switch kind {
            case .index: screen.put(String(row.index), row: y, column: column)
            case .pid: screen.put(row.pid.map { String($0) } ?? "-", row: y, column: column)
            case .name:
                // Cut on the left so the index within the program stays visible: `…cation.1`.
                let name = row.name.count > 9 ? "…" + row.name.suffix(8) : row.name
                screen.put(name, row: y, column: column)
            case .state:
                let stopped = live && row.usage?.isStopped == true
                var text = stopped ? "stopped" : row.state.rawValue
                if row.state == .backoff, let restart = row.pendingRestart {
                    text += " " + TableColumns.shortCountdown(now.duration(to: restart.at))
                }
                screen.put(
                    text, row: y, column: column,
                    style: stopped ? palette.warning : palette.state(row.state, failed: failed))
            case .cpu:
                if live, let usage = row.usage {
                    screen.put(TableColumns.cpuText(usage.cpuPercent), row: y, column: column)
                }
            case .memory:
                if live, let usage = row.usage {
                    screen.put(TableColumns.memoryText(usage.residentBytes), row: y, column: column)
                }
            case .restarts: screen.put(row.restartsText, row: y, column: column)
            case .uptime:
                if let spawnedAt = row.spawnedAt {
                    screen.put(TimeText.uptime(spawnedAt.duration(to: row.endedAt ?? now)), row: y, column: column)
                }
            }
        }
        screen.put(
            row.statusText(now: now, readyTimeout: readyTimeout), row: y, column: layout.status,
            style: failed ? palette.failure : Style.plain,
            limit: screen.width - layout.status - 1)
    }

    private static func drawLog(
        _ state: DashboardState, _ screen: inout ScreenBuffer, top: Int, bottom: Int, palette: Palette
    ) {
        guard top <= bottom else { return }
        var x = screen.put(" log · ", row: top, column: 0, style: palette.dim)
        x += screen.put(
            logTitle(state) + " ", row: top, column: x, style: state.logView.isFollowing ? palette.dim : palette.accent)
        screen.put(String(repeating: "─", count: max(0, screen.width - x)), row: top, column: x, style: palette.dim)
        let lines = state.visibleLog(limit: max(0, bottom - top))
        for (offset, line) in lines.enumerated() {
            let y = top + 1 + offset
            if line.isMarker {
                screen.put(" " + line.text, row: y, column: 0, style: palette.accent)
                continue
            }
            var column = 0
            if state.logView.slot == nil {
                let prefix: Style
                if line.stream == .stderr {
                    prefix = palette.failure
                } else {
                    prefix = state.server.programPosition(ofSlot: line.slot).map(palette.program) ?? palette.dim
                }
                column = screen.put(" \(state.name(line.slot)) | ", row: y, column: 0, style: prefix)
            } else {
                column = screen.put(" ", row: y, column: 0)
            }
            let ranges = state.search?.search.ranges(in: line.text) ?? []
            putHighlighted(line.text, ranges, &screen, row: y, column: column, palette: palette)
        }
    }

    /// Writes `text` with the character ranges `ranges` highlighted, clipped at the right edge.
    private static func putHighlighted(
        _ text: String, _ ranges: [Range<Int>], _ screen: inout ScreenBuffer, row: Int, column: Int, palette: Palette
    ) {
        guard !ranges.isEmpty else {
            screen.put(text, row: row, column: column, limit: screen.width - column)
            return
        }
        let characters = Array(text)
        var x = column
        var start = 0
        for range in ranges where range.lowerBound >= start && range.upperBound <= characters.count {
            x += screen.put(
                String(characters[start..<range.lowerBound]), row: row, column: x, limit: max(0, screen.width - x))
            x += screen.put(
                String(characters[range]), row: row, column: x, style: palette.match, limit: max(0, screen.width - x))
            start = range.upperBound
        }
        screen.put(String(characters[start...]), row: row, column: x, limit: max(0, screen.width - x))
    }

    /// `of worker.2 · following` / `· scrolled back, 120 newer lines · End follows`.
    static func logTitle(_ state: DashboardState) -> String {
        var parts: [String] = []
        if let slot = state.logView.slot { parts.append("of \(state.name(slot)) (l: all)") }
        if let search = state.search {
            let position = search.current.map { "\(search.matches.count - $0) of \(search.matches.count)" }
            parts.append(
                "'\(search.search.pattern)': \(position ?? "no match") · n older, N newer, Esc leaves")
        }
        if let anchor = state.logView.anchor {
            let newer = state.logBook.countAfter(anchor, slot: state.logView.slot)
            parts.append("scrolled back, \(newer) newer line\(newer == 1 ? "" : "s") · End follows")
        } else {
            parts.append("following")
        }
        return parts.joined(separator: " · ")
    }

    private static func helpLines(attached: Bool) -> [String] {
        KeyHelp.lines(attached: attached) + [
            "",
            "After the wait timeout, processes still running are SIGKILLed",
            "with their whole process group; the countdown shows on line 2.",
        ]
    }

    private static func drawHelp(_ state: DashboardState, _ screen: inout ScreenBuffer, palette: Palette) {
        let helpLines = helpLines(attached: state.attached)
        let widest = helpLines.map(\.unicodeScalars.count).max() ?? 0
        let fits = helpLines.count + 2 <= screen.height && widest + 4 <= screen.width
        drawBox(
            fits ? helpLines : KeyHelp.lines(short: true, attached: state.attached), title: "keys", &screen,
            palette: palette)
    }

    private static func drawSignalMenu(
        _ state: DashboardState, selection: Int, _ screen: inout ScreenBuffer, palette: Palette
    ) {
        let row = state.rows[state.selected]
        var lines = ["send to \(row.name) (pid \(row.pid.map { String($0) } ?? "-")):", ""]
        for (offset, signal) in DashboardState.menuSignals.enumerated() {
            lines.append((offset == selection ? "> " : "  ") + signal.name)
        }
        lines += ["", "↑↓ choose · Enter send · Esc cancel"]
        let box = drawBox(lines, title: "signal", &screen, palette: palette)
        screen.restyle(row: box.top + 3 + selection, column: box.left + 2, count: box.width - 4) { $0.reverse = true }
    }

    /// Draws a framed box centred on the screen; returns where it went.
    @discardableResult
    private static func drawBox(_ lines: [String], title: String, _ screen: inout ScreenBuffer, palette: Palette)
        -> (top: Int, left: Int, width: Int)
    {
        let inner = min(screen.width - 4, (lines.map(\.unicodeScalars.count).max() ?? 0) + 2)
        let width = inner + 2
        let height = min(screen.height, lines.count + 2)
        let top = max(0, (screen.height - height) / 2)
        let left = max(0, (screen.width - width) / 2)
        let titleText = "┤ \(title) ├"
        screen.put("┌" + String(repeating: "─", count: inner) + "┐", row: top, column: left, style: palette.box)
        screen.put(titleText, row: top, column: left + 2, style: palette.box)
        for offset in 0..<max(0, height - 2) {
            let y = top + 1 + offset
            screen.fill(row: y, column: left, count: width, style: .plain)
            screen.put("│", row: y, column: left, style: palette.box)
            screen.put(" " + lines[offset], row: y, column: left + 1, limit: inner)
            screen.put("│", row: y, column: left + width - 1, style: palette.box)
        }
        screen.put(
            "└" + String(repeating: "─", count: inner) + "┘", row: top + height - 1, column: left, style: palette.box)
        return (top, left, width)
    }
}
