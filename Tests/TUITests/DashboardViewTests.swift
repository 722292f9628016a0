import CorralEngine
import CorralModel
import Testing

@testable import CorralTUI

@Suite("Dashboard rendering (golden screens)")
struct DashboardViewTests {
    typealias F = DashboardFixtures

    @Test("all running, at 120×40, 80×24 and the minimum 64×12")
    func running() {
        let state = F.running()
        expectGolden(DashboardView.render(state, width: 120, height: 40, now: F.at(83)), "running-120x40")
        expectGolden(DashboardView.render(state, width: 80, height: 24, now: F.at(83)), "running-80x24")
        expectGolden(DashboardView.render(state, width: 64, height: 12, now: F.at(83)), "running-64x12")
    }

    @Test("a crashed worker in backoff: its state and the countdown to its restart; the new generation after")
    func backoff() {
        var state = F.running()
        let end = SlotEnd(
            termination: .exited(code: 3), origin: nil, failure: .exitedUnexpectedly(.exited(code: 3)))
        state.apply(.exited(slot: 1, pid: 4122, end), now: F.at(80))
        state.apply(.stateChanged(slot: 1, .backoff), now: F.at(80))
        state.apply(
            .restartScheduled(
                slot: 1, generation: 1, attempt: 2, delay: .milliseconds(3000), reason: "exited with code 3"),
            now: F.at(80))
        let screen = DashboardView.render(state, width: 120, height: 40, now: F.at(81.4))
        let line = screen.text.split(separator: "\n").first { $0.contains("4122") }.map(String.init) ?? ""
        #expect(line.contains("backoff 1.6s"), "the countdown in the state cell: \(line)")
        #expect(line.contains("restart in 1.6 s (attempt 2) · exit 3"), "\(line)")
        expectGolden(DashboardView.render(state, width: 80, height: 24, now: F.at(81.4)), "backoff-80x24")
        state.apply(.spawned(slot: 1, pid: 4200, kind: .worker, generation: 1), now: F.at(83))
        state.apply(.stateChanged(slot: 1, .running, generation: 1), now: F.at(83))
        #expect(state.rows[1].restarts == 1)
        #expect(state.rows[1].end == nil && state.rows[1].pendingRestart == nil)
        let after = DashboardView.render(state, width: 120, height: 40, now: F.at(84))
        #expect(!after.text.contains("restart in"))
    }

    @Test("a reload: the row shows the new generation; the old one's signal and end do not take it over")
    func reloadRow() {
        var state = F.running()
        state.apply(.spawned(slot: 1, pid: 4300, kind: .worker, generation: 1), now: F.at(80))
        state.apply(.stateChanged(slot: 1, .running, generation: 1), now: F.at(80.2))
        state.apply(.signalSent(slot: 1, pid: 4122, .terminate, .reload, generation: 0), now: F.at(80.2))
        state.apply(
            .exited(
                slot: 1, pid: 4122, SlotEnd(termination: .exited(code: 0), origin: nil, failure: nil), generation: 0),
            now: F.at(80.3))
        #expect(state.rows[1].pid == 4300 && state.rows[1].generation == 1)
        #expect(state.rows[1].end == nil && state.rows[1].lastSignal == nil)
        let line =
            DashboardView.render(state, width: 120, height: 40, now: F.at(83)).text.split(separator: "\n")
            .first { $0.contains("4300") }.map(String.init) ?? ""
        #expect(line.contains("running") && line.contains("3s") && !line.contains("exit"), "\(line)")
    }

    @Test("stopping: the signal sent to each process, the SIGKILL countdown, who holds the stop up")
    func stopping() {
        let screen = DashboardView.render(F.stopping(), width: 120, height: 40, now: F.at(62.6))
        expectGolden(screen, "stopping-120x40")
        #expect(screen.text.contains("SIGKILL in 7.4 s"))
        #expect(screen.text.contains("waiting for worker.1, worker.2, worker.3"))
    }

    @Test("stopped: who sent each fatal signal")
    func stopped() {
        let screen = DashboardView.render(F.stopped(), width: 120, height: 40, now: F.at(71))
        expectGolden(screen, "stopped-120x40")
        #expect(screen.text.contains("SIGKILL sent by corral after the wait timeout"))
        #expect(screen.text.contains("SIGKILL not sent by corral: OOM killer?"))
    }

    @Test("help, signal menu and force-kill confirmation overlays")
    func overlays() {
        var state = F.running()
        state.mode = .help
        expectGolden(DashboardView.render(state, width: 120, height: 40, now: F.at(83)), "help-120x40")
        state.mode = .signalMenu(selection: 1)
        state.selected = 2
        expectGolden(DashboardView.render(state, width: 120, height: 40, now: F.at(83)), "signal-menu-120x40")
        state.mode = .confirmForceKill
        expectGolden(DashboardView.render(state, width: 80, height: 24, now: F.at(83)), "confirm-80x24")
        state.mode = .confirmKill(slot: 2)
        expectGolden(DashboardView.render(state, width: 80, height: 24, now: F.at(83)), "confirm-kill-80x24")
    }

    @Test("the help fits the smallest screen whole: every key, none cut")
    func smallHelp() {
        var state = F.running()
        state.mode = .help
        let screen = DashboardView.render(state, width: 64, height: 12, now: F.at(83))
        expectGolden(screen, "help-64x12")
        for text in [
            "│ i t ", "│ K ", "│ / n N", "│ PgUp", "↑ ↓ j k o", "│ s Enter d", "│ q ", "│ ? ", "force-kills",
            "closes it",
        ] {
            #expect(screen.text.contains(text), "the help lost \(text)")
        }
        #expect(screen.text.contains("└"), "the box is cut")
    }

    @Test("the header ends with the command being run, clipped to the width")
    func headerCommand() {
        var state = F.running()
        state.command = "python3 -m http.server 8080"
        let screen = DashboardView.render(state, width: 120, height: 40, now: F.at(83))
        #expect(screen.lines[0].hasSuffix("wait timeout 10 s · python3 -m http.server 8080"), "\(screen.lines[0])")
        let narrow = DashboardView.render(state, width: 80, height: 24, now: F.at(83))
        #expect(narrow.lines[0].count <= 80)
    }

    @Test("a terminal too small says so instead of drawing garbage", arguments: [(63, 12), (64, 11), (20, 5), (1, 1)])
    func tooSmall(width: Int, height: Int) {
        let screen = DashboardView.render(F.running(), width: width, height: height, now: F.at(83))
        #expect(screen.width == width && screen.height == height)
        if width == 20 && height == 5 { expectGolden(screen, "too-small-20x5") }
        if width >= 40 { #expect(screen.text.contains("terminal too small: need 64×12")) }
        if width == 1 { #expect(screen.lines == ["t"]) }
    }

    @Test("a zero-sized terminal renders nothing and does not crash")
    func zeroSize() {
        #expect(DashboardView.render(F.running(), width: 0, height: 0, now: F.at(1)).lines.isEmpty)
    }

    @Test("colour follows the state; NO_COLOR keeps only bold, reverse and dim")
    func colors() {
        let colored = DashboardView.render(F.stopped(), width: 120, height: 40, now: F.at(71))
        let plain = DashboardView.render(F.stopped(colors: false), width: 120, height: 40, now: F.at(71))
        #expect(colored.text == plain.text)
        // Row 3 is worker 0 (exited clean: dim); row 6 worker 3 (SIGKILLed: red).
        #expect(colored[3, 24].style.foreground == nil && colored[3, 24].style.dim)
        #expect(colored[6, 24].style.foreground == .red)
        for row in 0..<plain.height {
            for column in 0..<plain.width { #expect(plain[row, column].style.foreground == nil) }
        }
    }

    @Test("the selected row is highlighted and scrolled into view")
    func selection() {
        var state = DashboardState(
            supervisorPid: 1, workers: 40, extras: 0, waitTimeout: .seconds(10), stopSignals: [.terminate],
            startedAt: F.t0)
        state.selected = 39
        let screen = DashboardView.render(state, width: 80, height: 24, now: F.at(1))
        let row = screen.lines.firstIndex { $0.hasPrefix(">39 ") }
        #expect(row != nil)
        if let row { #expect(screen[row, 1].style.reverse) }
        #expect(screen.lines.filter { $0.hasPrefix(">") }.count == 1, "exactly one row is marked")
    }
}

extension DashboardFixtures {
    static func stopped(colors: Bool) -> DashboardState {
        var state = stopped()
        state.colors = colors
        return state
    }
}

@Suite("Dashboard rendering: the log views (golden screens)")
struct LogViewTests {
    typealias F = DashboardFixtures

    /// The running fixture with 300 lines of output from two workers, one of them far back.
    static func chatty() -> DashboardState {
        var state = F.running()
        state.apply(.output(slot: 2, .stderr, line: "ERROR: disk almost full on /var"), now: F.at(10))
        for line in 0..<300 {
            state.apply(.output(slot: line % 2, .stdout, line: "GET /item/\(line) -> 200"), now: F.at(20))
        }
        return state
    }

    @Test("a search finds a line scrolled far out of view, highlights it and counts, at three sizes")
    func search() {
        for (width, height) in [(120, 40), (80, 24), (64, 12)] {
            var state = Self.chatty()
            state.logPageSize = DashboardView.logLines(state, height: height)
            for key in [Key.character("/")] + "disk".map({ Key.character($0) }) + [.enter] {
                _ = KeyBindings.handle(key, state: &state)
            }
            #expect(state.search?.matches.count == 1)
            let screen = DashboardView.render(state, width: width, height: height, now: F.at(83))
            #expect(screen.text.contains("ERROR: disk almost full"))
            #expect(screen.text.contains("'disk': 1 of 1"))
            expectGolden(screen, "search-\(width)x\(height)")
        }
    }

    @Test("typing a search shows the prompt")
    func typing() {
        var state = Self.chatty()
        for key in [Key.character("/")] + "re:GET /item/1\\d".map({ Key.character($0) }) {
            _ = KeyBindings.handle(key, state: &state)
        }
        expectGolden(DashboardView.render(state, width: 80, height: 24, now: F.at(83)), "search-typing-80x24")
        _ = KeyBindings.handle(.enter, state: &state)
        #expect(state.search?.matches.count == 10 + 100)
        _ = KeyBindings.handle(.character("n"), state: &state)
        #expect(DashboardView.logTitle(state).contains("2 of 110"))
        _ = KeyBindings.handle(.character("N"), state: &state)
        _ = KeyBindings.handle(.character("N"), state: &state)
        #expect(state.message == "no newer match")
        _ = KeyBindings.handle(.escape, state: &state)
        #expect(state.search == nil && state.logView.isFollowing)
    }

    @Test("one process's log alone, at three sizes")
    func oneProcess() {
        for (width, height) in [(120, 40), (80, 24), (64, 12)] {
            var state = Self.chatty()
            state.selected = 1
            _ = KeyBindings.handle(.character("l"), state: &state)
            let screen = DashboardView.render(state, width: width, height: height, now: F.at(83))
            #expect(screen.text.contains("log · of worker.1"))
            #expect(!screen.text.contains("/item/298 "), "worker.0's lines are not shown")
            expectGolden(screen, "one-log-\(width)x\(height)")
        }
    }

    @Test("scrolled back, at three sizes")
    func scrolledBack() {
        for (width, height) in [(120, 40), (80, 24), (64, 12)] {
            var state = Self.chatty()
            state.logPageSize = DashboardView.logLines(state, height: height)
            _ = KeyBindings.handle(.pageUp, state: &state)
            _ = KeyBindings.handle(.pageUp, state: &state)
            let screen = DashboardView.render(state, width: width, height: height, now: F.at(83))
            #expect(screen.text.contains("scrolled back"))
            expectGolden(screen, "scrolled-\(width)x\(height)")
        }
    }
}

@Suite("Search over the kept output")
struct LogSearchTests {
    @Test("plain text ignores case, ASCII or not; re: is a regular expression; bad patterns say why")
    func matching() throws {
        let plain = try LogSearch("Error")
        #expect(plain.matches("an ERROR here"))
        #expect(!plain.matches("all fine"))
        #expect(plain.ranges(in: "error, Error, eRRor") == [0..<5, 7..<12, 14..<19])
        let cyrillic = try LogSearch("Ошибка")
        #expect(cyrillic.matches("критическая ошибка диска"))
        let regex = try LogSearch("re:GET /item/\\d+ -> 5\\d\\d")
        #expect(regex.matches("get /item/12 -> 503"))
        #expect(!regex.matches("GET /item/12 -> 200"))
        #expect(throws: SearchError.self) { try LogSearch("re:(") }
        #expect(throws: SearchError.self) { try LogSearch("") }
    }

    @Test("100,000 kept lines: every match found, in order")
    func manyLines() throws {
        var book = LogBook()
        for line in 0..<100_000 { book.append(slot: line % 10, stream: .stdout, text: "request \(line) served") }
        let search = try LogSearch("request 9999")
        let found = book.search(slot: nil, search.matches)
        #expect(found.map(\.text) == ["request 9999 served"] + (0..<10).map { "request 9999\($0) served" })
    }
}

@Suite("Dashboard rendering: resources, restarts, sort, stopped (golden screens)")
struct ResourceViewTests {
    typealias F = DashboardFixtures

    @Test("columns that do not fit are dropped by priority, never cut: 120, 80 and 64 columns")
    func columns() {
        #expect(TableColumns.layout(width: 120).columns.count == 8)
        let narrow = TableColumns.layout(width: 80).columns.map(\.0)
        #expect(!narrow.contains(.name) && narrow.contains(.cpu) && narrow.contains(.memory))
        let smallest = TableColumns.layout(width: 64).columns.map(\.0)
        #expect(smallest.starts(with: [.index, .pid, .state]))
        #expect(TableColumns.memoryText(180 << 20) == "180M")
        #expect(TableColumns.memoryText(1536 << 20) == "1.5G")
        #expect(TableColumns.memoryText(812 << 10) == "812K")
        #expect(TableColumns.cpuText(97.54) == "97.5")
        #expect(TableColumns.cpuText(nil) == "-")
    }

    @Test("o sorts by CPU (busiest first) and the selection moves in the shown order; a stopped process says so")
    func sortAndStopped() {
        var state = F.running()
        _ = KeyBindings.handle(.character("o"), state: &state)
        #expect(state.sortOrder == .cpu)
        #expect(state.displayedRows.map(\.index) == [1, 2, 0, 4, 3])
        _ = KeyBindings.handle(.down, state: &state)
        #expect(state.selected == 4, "worker.0 is third in CPU order; down selects the fourth, extra.4")
        var usage = state.rows.map(\.usage)
        usage[3]?.isStopped = true
        state.server.updateUsage(
            Dictionary(
                uniqueKeysWithValues: usage.enumerated().compactMap { index, value in value.map { (index, $0) } }))
        state.rows[1].restarts = 3
        let screen = DashboardView.render(state, width: 120, height: 40, now: F.at(83))
        #expect(screen.text.contains("CPU%▼"))
        expectGolden(screen, "sorted-cpu-120x40")
        expectGolden(DashboardView.render(state, width: 80, height: 24, now: F.at(83)), "sorted-cpu-80x24")
        expectGolden(DashboardView.render(state, width: 64, height: 12, now: F.at(83)), "sorted-cpu-64x12")
        let line = screen.text.split(separator: "\n").first { $0.contains("4124") } ?? ""
        #expect(line.contains("stopped"), "\(line)")
    }
}

@Suite("Dashboard rendering: the detail view (golden screens)")
struct DetailViewTests {
    typealias F = DashboardFixtures

    /// worker.1 crashed once (exit 3, with stderr lines) and runs again as generation 1.
    static func crashed() -> DashboardState {
        var state = F.running()
        state.apply(.signalSent(slot: 1, pid: 4122, .user1, .command), now: F.at(40))
        let end = SlotEnd(
            termination: .exited(code: 3), origin: nil, failure: .exitedUnexpectedly(.exited(code: 3)),
            lastLines: ["Traceback (most recent call last):", "OSError: [Errno 98] Address already in use"])
        state.apply(.exited(slot: 1, pid: 4122, end), now: F.at(50))
        state.apply(.stateChanged(slot: 1, .exited), now: F.at(50))
        return state
    }

    @Test("d shows a process's details, at three sizes; any key closes; ↑↓ move to the next process")
    func detail() {
        for (width, height) in [(120, 40), (80, 24), (64, 12)] {
            var state = Self.crashed()
            state.selected = 1
            _ = KeyBindings.handle(.character("d"), state: &state)
            #expect(state.mode == .detail(slot: 1))
            let screen = DashboardView.render(state, width: width, height: height, now: F.at(83))
            #expect(screen.text.contains("worker.1 · pid 4122"))
            expectGolden(screen, "detail-\(width)x\(height)")
        }
        var state = Self.crashed()
        _ = KeyBindings.handle(.character("d"), state: &state)
        _ = KeyBindings.handle(.down, state: &state)
        #expect(state.mode == .detail(slot: 1))
        let text = DetailView.lines(state.rows[1], state: state, now: F.at(83)).joined(separator: "\n")
        for expected in [
            "generation 0", "states: initializing", "→ running", "signals sent: SIGUSR1", "(command)",
            "last exit: exit 3",
            "Address already in use",
        ] {
            #expect(text.contains(expected), "\(expected) in:\n\(text)")
        }
        _ = KeyBindings.handle(.character("x"), state: &state)
        #expect(state.mode == .normal)
        state.extraCommands = ["/bin/sh -c python3 metrics.py"]
        let extra = DetailView.lines(state.rows[4], state: state, now: F.at(83)).joined(separator: "\n")
        #expect(extra.contains("command: /bin/sh -c python3 metrics.py"), "\(extra)")
    }

    @Test("a process waiting for READY=1 says for how long")
    func waitingForReady() {
        var state = F.running()
        state.apply(.spawned(slot: 1, pid: 5000, kind: .worker, generation: 1), now: F.at(80))
        state.apply(.stateChanged(slot: 1, .initializing, generation: 1), now: F.at(80))
        #expect(state.rows[1].statusText(now: F.at(83.2)) == "initializing for 3.2 s: waiting for READY=1")
        // A reload's new generation: rolled back when it is not running within the ready timeout.
        state.readyTimeout = .seconds(10)
        #expect(
            state.rows[1].statusText(now: F.at(83.2), readyTimeout: state.readyTimeout)
                == "initializing for 3.2 s: waiting for READY=1 · rolled back in 6.8 s")
    }
}
