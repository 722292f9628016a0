import CorralEngine
import CorralModel
import Glibc
import Testing

@testable import CorralTUI

/// A run of several programs on the dashboard: names, the header's counts per program, each
/// program's log colour, the program in the details.
@Suite("Dashboard: several programs")
struct ProgramsViewTests {
    typealias F = DashboardFixtures

    /// `web.0`, `web.1` running, `clock.0` starting; a line of output from each program.
    static func programs(colors: Bool = true) -> DashboardState {
        let names = [
            ProcessName(program: "web", index: 0), ProcessName(program: "web", index: 1),
            ProcessName(program: "clock", index: 0),
        ]
        var model = ServerModel(
            supervisorPid: 4100, workers: 3, extras: 0, waitTimeout: .seconds(10), stopSignals: [.terminate],
            startedAt: F.t0, command: "Procfile: web, clock", names: names)
        model.programCommands = ["web": "gunicorn app:app", "clock": "python clock.py"]
        model.programDependencies = ["web": ["clock (started)"], "clock": []]
        var state = DashboardState(server: model, colors: colors)
        for slot in 0..<3 {
            state.apply(.spawned(slot: slot, pid: pid_t(4121 + slot), kind: .worker), now: F.at(0.1))
            state.apply(.stateChanged(slot: slot, slot < 2 ? .running : .initializing), now: F.at(0.2))
        }
        state.apply(.output(slot: 0, .stdout, line: "listening"), now: F.at(1))
        state.apply(.output(slot: 2, .stdout, line: "tick"), now: F.at(1.5))
        return state
    }

    @Test("rows and log lines are named PROGRAM.I; the header counts each program")
    func names() {
        let screen = DashboardView.render(Self.programs(), width: 120, height: 20, now: F.at(2))
        let lines = screen.text.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("web 2/2 · clock 0/1"), "\(lines[0])")
        #expect(lines.contains { $0.contains("4123") && $0.contains("clock.0") })
        #expect(lines.contains { $0.contains("web.0 | listening") })
        #expect(lines.contains { $0.contains("clock.0 | tick") })
    }

    @Test("each program's log prefix has its own colour; none with NO_COLOR")
    func colours() {
        let colored = DashboardView.render(Self.programs(), width: 120, height: 20, now: F.at(2))
        let plain = DashboardView.render(Self.programs(colors: false), width: 120, height: 20, now: F.at(2))
        let lines = colored.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let web = lines.firstIndex(where: { $0.contains("web.0 | listening") }),
            let clock = lines.firstIndex(where: { $0.contains("clock.0 | tick") })
        else {
            Issue.record("log lines not found:\n\(colored.text)")
            return
        }
        #expect(colored[web, 1].style.foreground == .cyan)
        #expect(colored[clock, 1].style.foreground == .green)
        #expect(plain[web, 1].style.foreground == nil && plain[clock, 1].style.foreground == nil)
    }

    @Test("the details name the program, its processes, what it depends on and its command")
    func details() {
        let state = Self.programs()
        let lines = DetailView.lines(state.rows[1], state: state, now: F.at(2))
        #expect(lines.contains("program: web (2 processes) · depends on clock (started)"), "\(lines)")
        #expect(lines.contains("command: gunicorn app:app"))
    }

    @Test("R reloads the selected process's program; + and - scale it; rows stay grouped by program")
    func programKeys() {
        var state = Self.programs()
        state.selected = 2
        #expect(KeyBindings.handle(.character("R"), state: &state) == [.reloadPrograms(["clock"])])
        #expect(KeyBindings.handle(.character("+"), state: &state) == [.scaleProgram("clock", workers: 2)])
        #expect(KeyBindings.handle(.character("-"), state: &state).isEmpty, "clock runs one process")
        #expect(state.message?.contains("one process is the fewest for clock") == true)
        state.selected = 0
        #expect(KeyBindings.handle(.character("-"), state: &state) == [.scaleProgram("web", workers: 1)])
        // web.2 added by scaling takes the next slot, after clock's, but is shown with web.
        state.apply(.slotAdded(slot: 3, ProcessName(program: "web", index: 2)), now: F.at(3))
        state.apply(.spawned(slot: 3, pid: 4124, kind: .worker), now: F.at(3))
        #expect(state.displayedRows.map(\.name) == ["web.0", "web.1", "web.2", "clock.0"])
    }
}
