import CorralEngine
import CorralModel
import Glibc
import Testing

@testable import CorralTUI

@Suite("Key bindings: key + state -> commands")
struct KeyBindingTests {
    typealias F = DashboardFixtures

    @Test("i and t signal every process; K asks first and only y kills")
    func signalsToAll() {
        var state = F.running()
        #expect(KeyBindings.handle(.character("i"), state: &state) == [.signal(.interrupt, to: .all)])
        #expect(KeyBindings.handle(.character("t"), state: &state) == [.signal(.terminate, to: .all)])
        #expect(KeyBindings.handle(.character("K"), state: &state).isEmpty)
        #expect(state.mode == .confirmForceKill)
        #expect(KeyBindings.handle(.character("n"), state: &state).isEmpty)
        #expect(state.mode == .normal)
        _ = KeyBindings.handle(.character("K"), state: &state)
        #expect(KeyBindings.handle(.character("y"), state: &state) == [.forceKill(.all)])
    }

    @Test("arrows select within bounds; s opens the menu; the menu sends the chosen signal to that process")
    func signalMenu() {
        var state = F.running()
        _ = KeyBindings.handle(.up, state: &state)
        #expect(state.selected == 0)
        for _ in 0..<10 { _ = KeyBindings.handle(.down, state: &state) }
        #expect(state.selected == 4)
        _ = KeyBindings.handle(.up, state: &state)
        #expect(KeyBindings.handle(.character("s"), state: &state).isEmpty)
        #expect(state.mode == .signalMenu(selection: 0))
        _ = KeyBindings.handle(.down, state: &state)
        #expect(KeyBindings.handle(.enter, state: &state) == [.signal(.terminate, to: .slot(3))])
        #expect(state.mode == .normal)
        _ = KeyBindings.handle(.enter, state: &state)
        _ = KeyBindings.handle(.down, state: &state)
        _ = KeyBindings.handle(.down, state: &state)
        // SIGKILL from the menu asks first, like K: any key but y cancels.
        #expect(KeyBindings.handle(.enter, state: &state).isEmpty)
        #expect(state.mode == .confirmKill(slot: 3))
        #expect(KeyBindings.handle(.character("n"), state: &state).isEmpty)
        #expect(state.mode == .normal)
        _ = KeyBindings.handle(.enter, state: &state)
        _ = KeyBindings.handle(.down, state: &state)
        _ = KeyBindings.handle(.down, state: &state)
        _ = KeyBindings.handle(.enter, state: &state)
        #expect(KeyBindings.handle(.character("y"), state: &state) == [.forceKill(.slot(3))])
        _ = KeyBindings.handle(.character("s"), state: &state)
        #expect(KeyBindings.handle(.escape, state: &state).isEmpty)
        #expect(state.mode == .normal)
    }

    @Test("the menu does not open on a process that has ended")
    func menuNeedsLiveProcess() {
        var state = F.stopped()
        state.selected = 0
        #expect(KeyBindings.handle(.character("s"), state: &state).isEmpty)
        #expect(state.mode == .normal)
        #expect(state.message == "no live process selected")
    }

    @Test("q stops with the first stop signal; a second q force-kills")
    func quit() {
        var state = F.running()
        state.stopSignals = [.user1, .terminate]
        #expect(KeyBindings.handle(.character("q"), state: &state) == [.signal(.user1, to: .all)])
        #expect(KeyBindings.handle(.character("q"), state: &state) == [.forceKill(.all)])
    }

    @Test("? opens help and any key closes it without acting")
    func help() {
        var state = F.running()
        _ = KeyBindings.handle(.character("?"), state: &state)
        #expect(state.mode == .help)
        #expect(KeyBindings.handle(.character("t"), state: &state).isEmpty)
        #expect(state.mode == .normal)
    }
}

@Suite("Dashboard state: events folded in")
struct DashboardStateTests {
    typealias F = DashboardFixtures

    @Test("events set pid, state, status, the last signal and the end; the log keeps the latest lines")
    func fold() {
        var state = F.stopping()
        #expect(state.rows[0].pid == 4121)
        #expect(state.rows[1].state == .stopping)
        #expect(state.rows[1].lastSignal?.signal == .terminate)
        #expect(state.rows[0].end?.termination == .exited(code: 0))
        #expect(state.holdingUp.map(\.index) == [1, 2, 3])
        #expect(state.stopping?.deadline == F.at(70))
        state.apply(.signalSent(slot: 1, pid: 4122, .kill, .timeout), now: F.at(70))
        #expect(state.stopping?.deadline == nil, "the countdown ends once SIGKILL went out")
        for line in 0..<30_000 {
            state.apply(.output(slot: 4, .stdout, line: "line \(line)"), now: F.at(80))
        }
        #expect(state.logBook.count(slot: 4) == LogBook.Limits().linesPerProcess)
        #expect(state.visibleLog(limit: 1).last?.text == "line 29999")
    }
}

@Suite("Screen diff")
struct ScreenDiffTests {
    @Test("the first frame writes everything; a one-row change writes only that row's changed cells")
    func diff() {
        var old = ScreenBuffer(width: 200, height: 60)
        for row in 0..<60 { old.put("row \(row) " + String(repeating: "x", count: 150), row: row, column: 0) }
        #expect(ScreenDiff(from: nil, to: old).clearsScreen)
        var new = old
        new.put("row 7 changed", row: 7, column: 0)
        let diff = ScreenDiff(from: old, to: new)
        #expect(!diff.clearsScreen)
        #expect(!diff.runs.isEmpty)
        #expect(diff.runs.allSatisfy { $0.row == 7 })
        #expect(diff.cellCount <= 8)
        #expect(ScreenDiff(from: new, to: new).runs.isEmpty)
        #expect(ScreenDiff(from: ScreenBuffer(width: 10, height: 10), to: new).clearsScreen)
    }

    @Test("text is clipped to the screen; control characters become ?, wide ones take two columns")
    func put() {
        var screen = ScreenBuffer(width: 5, height: 1)
        #expect(screen.put("abcdefgh", row: 0, column: 2) == 3)
        #expect(screen.lines == ["  abc"])
        screen.put("\u{1}漢", row: 0, column: 0)
        #expect(screen.lines == ["?漢bc"])
        #expect(screen.put("x", row: 3, column: 0) == 0)
    }
}

@Suite("Key bindings in an attached viewer")
struct AttachedKeyBindingTests {
    @Test("q detaches and sends nothing; t and i still stop the server; the legend says q detach")
    func quitDetaches() {
        var state = DashboardFixtures.running()
        state.attached = true
        #expect(KeyBindings.handle(.character("q"), state: &state).isEmpty)
        #expect(state.detachRequested)
        #expect(KeyBindings.handle(.character("q"), state: &state).isEmpty, "q never force-kills from a viewer")
        #expect(KeyBindings.handle(.character("t"), state: &state) == [.signal(.terminate, to: .all)])
        #expect(KeyHelp.legend(attached: true).contains("q detach"))
        #expect(!KeyHelp.legend(attached: true).contains("q quit"))
        #expect(KeyHelp.legend(attached: false).contains("q quit"))
    }
}

@Suite("The log: bounded rings, scrolling, one process's log")
struct LogTests {
    typealias F = DashboardFixtures

    @Test("each process keeps its last lines within its lines, bytes and share of the total")
    func limits() {
        var book = LogBook(limits: LogBook.Limits(linesPerProcess: 100, bytesPerProcess: 1 << 20, totalBytes: 1 << 20))
        for line in 0..<1_000 { book.append(slot: 0, stream: .stdout, text: "zero \(line)") }
        #expect(book.count(slot: 0) == 100)
        #expect(book.lines(slot: 0, endingAt: nil, limit: 1).first?.text == "zero 999")
        // A second process: each may keep half the total now.
        let long = String(repeating: "x", count: 10_000)
        for _ in 0..<1_000 { book.append(slot: 1, stream: .stdout, text: long) }
        #expect(book.totalBytes <= 1 << 20 + 100 * (LogBook.lineOverhead + 20))
        #expect(book.count(slot: 1) * (10_000 + LogBook.lineOverhead) <= 1 << 19)
        #expect(book.count(slot: 1) > 0)
    }

    /// Two running workers and no output yet.
    static func quiet() -> DashboardState {
        var state = DashboardState(
            supervisorPid: 1, workers: 2, extras: 0, waitTimeout: nil, stopSignals: [.terminate], startedAt: F.at(0))
        for slot in 0..<2 { state.apply(.spawned(slot: slot, pid: pid_t(100 + slot), kind: .worker), now: F.at(0)) }
        return state
    }

    @Test("the merged log is in arrival order; scrolling back pages and End follows again")
    func scrolling() {
        var state = Self.quiet()
        for line in 0..<100 {
            state.apply(.output(slot: line % 2, .stdout, line: "line \(line)"), now: F.at(1))
        }
        state.logPageSize = 10
        #expect(state.visibleLog(limit: 3).map(\.text) == ["line 97", "line 98", "line 99"])
        _ = KeyBindings.handle(.pageUp, state: &state)
        #expect(!state.logView.isFollowing)
        #expect(state.visibleLog(limit: 2).map(\.text) == ["line 88", "line 89"])
        // New lines do not move a scrolled-back view.
        state.apply(.output(slot: 0, .stdout, line: "line 100"), now: F.at(2))
        #expect(state.visibleLog(limit: 1).map(\.text) == ["line 89"])
        #expect(DashboardView.logTitle(state).contains("11 newer lines"))
        _ = KeyBindings.handle(.wheelDown, state: &state)
        #expect(state.visibleLog(limit: 1).map(\.text) == ["line 92"])
        _ = KeyBindings.handle(.pageDown, state: &state)
        #expect(state.logView.isFollowing, "within a page of the newest: following again")
        _ = KeyBindings.handle(.home, state: &state)
        #expect(state.visibleLog(limit: 10).first?.text == "line 0")
        for _ in 0..<5 { _ = KeyBindings.handle(.pageUp, state: &state) }
        #expect(state.visibleLog(limit: 10).first?.text == "line 0", "not past the oldest")
        _ = KeyBindings.handle(.character("G"), state: &state)
        #expect(state.logView.isFollowing)
        #expect(DashboardView.logTitle(state) == "following")
    }

    @Test("l shows the selected process's log alone, with a marker for each new generation")
    func oneProcess() {
        var state = Self.quiet()
        state.apply(.output(slot: 0, .stdout, line: "zero a"), now: F.at(1))
        state.apply(.output(slot: 1, .stdout, line: "one a"), now: F.at(1))
        state.apply(.spawned(slot: 1, pid: 5000, kind: .worker, generation: 1), now: F.at(2))
        state.apply(.output(slot: 1, .stderr, line: "one b"), now: F.at(2))
        state.selected = 1
        _ = KeyBindings.handle(.character("l"), state: &state)
        #expect(state.logView.slot == 1)
        #expect(
            state.visibleLog(limit: 10).map(\.text) == ["one a", "── worker.1 generation 1, pid 5000 ──", "one b"])
        #expect(DashboardView.logTitle(state).hasPrefix("of worker.1"))
        _ = KeyBindings.handle(.character("l"), state: &state)
        #expect(state.logView.slot == nil)
        #expect(state.visibleLog(limit: 10).count == 4, "both processes' lines and the marker")
    }
}
