import CorralTestSupport
import Foundation
import Testing

/// The dashboard's log under tmux: search and one process's log, on the real binary.
@Suite("the dashboard's log under tmux", .processExclusive)
struct LogEndToEndTests {
    typealias CorralInTmux = DashboardEndToEndTests.CorralInTmux

    @Test("/ finds a line scrolled far out of view, also typed in Cyrillic; l shows one process's log alone; q stops")
    func searchAndOneLog() throws {
        // Worker 0 says something rare once, then both workers write 2,000 lines.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("corral-log-\(UUID().uuidString).sh")
        try """
        [ "$CORRAL_PROCESS_INDEX" = 0 ] && echo 'needle: the rare line'
        [ "$CORRAL_PROCESS_INDEX" = 1 ] && echo 'ошибка: редкая строка'
        i=0; while [ $i -lt 2000 ]; do echo "hay $CORRAL_PROCESS_INDEX.$i"; i=$((i+1)); done
        exec sleep 60
        """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let run = try CorralInTmux(width: 120, height: 40, arguments: "--no-control -w 2 -- sh \(script.path)")
        let session = run.session
        #expect(
            eventually(within: .seconds(20)) {
                let screen = session.screen()
                return screen.contains("hay 0.1999") || screen.contains("hay 1.1999")
            }, "\(session.screen())")
        #expect(!session.screen().contains("needle"), "the line is out of view")
        session.press("/")
        session.press("-l", "NEEDLE")
        session.press("Enter")
        #expect(
            eventually(within: .seconds(5)) {
                let screen = session.screen()
                return screen.contains("worker.0 | needle: the rare line") && screen.contains("'NEEDLE': 1 of 1")
            }, "\(session.screen())")
        session.press("Escape")
        #expect(eventually(within: .seconds(5)) { session.screen().contains("log · following") })
        // A pattern typed in Cyrillic, in the other case.
        session.press("/")
        session.press("-l", "ОШИБКА")
        session.press("Enter")
        #expect(
            eventually(within: .seconds(5)) {
                let screen = session.screen()
                return screen.contains("worker.1 | ошибка: редкая строка") && screen.contains("'ОШИБКА': 1 of 1")
            }, "\(session.screen())")
        session.press("Escape")
        #expect(eventually(within: .seconds(5)) { session.screen().contains("log · following") })
        session.press("j")
        session.press("l")
        #expect(
            eventually(within: .seconds(5)) {
                let screen = session.screen()
                return screen.contains("log · of worker.1") && screen.contains("hay 1.1999")
                    && !screen.contains("hay 0.")
            }, "\(session.screen())")
        session.press("q")
        #expect(run.exitStatus() == "0", "\(session.screen())")
    }
}

/// The dashboard's resource columns under tmux, on real processes.
@Suite("the dashboard's CPU and memory under tmux", .processExclusive)
struct ResourceEndToEndTests {
    @Test("a busy worker shows high CPU and an idle one near 0; a SIGSTOPped one shows stopped")
    func busyAndIdle() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("corral-cpu-\(UUID().uuidString).sh")
        try """
        if [ "$CORRAL_PROCESS_INDEX" = 0 ]; then while :; do :; done; fi
        exec sleep 60
        """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let run = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40, arguments: "--no-control -w 3 -- sh \(script.path)")
        let session = run.session
        /// The CPU column of the row of slot `index`.
        func cpu(_ index: Int) -> Double? {
            let line = session.screen().split(separator: "\n").first { $0.dropFirst().hasPrefix("\(index) ") }
            guard let fields = line?.split(separator: " "), fields.count > 5 else { return nil }
            return Double(fields[4])
        }
        #expect(
            eventually(within: .seconds(10)) { (cpu(0) ?? 0) > 50 && (cpu(1) ?? 100) < 5 },
            "\(session.screen())")
        let screen = session.screen()
        let pid = screen.split(separator: "\n").first { $0.dropFirst().hasPrefix("2 ") }?.split(separator: " ")[1]
        let stoppedPid = try #require(pid.flatMap { pid_t($0) })
        kill(stoppedPid, SIGSTOP)
        #expect(
            eventually(within: .seconds(5)) {
                session.screen().split(separator: "\n").contains {
                    $0.dropFirst().hasPrefix("2 ") && $0.contains("stopped")
                }
            }, "\(session.screen())")
        kill(stoppedPid, SIGCONT)
        session.press("q")
        #expect(run.exitStatus() == "0", "\(session.screen())")
    }
}

/// A crash-looping worker under tmux: its restarts and its backoff countdown.
@Suite("a crash loop under tmux", .processExclusive)
struct CrashLoopEndToEndTests {
    @Test("a regular expression that backtracks catastrophically does not freeze corral: ctl answers, q stops")
    func catastrophicRegex() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let line = String(repeating: "a", count: 60) + "!"
        let run = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40,
            arguments:
                "--control \(directory.socket) --ready-after 0 -- sh -c 'i=0; while [ $i -lt 3000 ]; do echo \(line); "
                + "i=$((i+1)); done; echo done-writing; exec sleep 60'")
        let session = run.session
        #expect(eventually(within: .seconds(20)) { session.screen().contains("done-writing") }, "\(session.screen())")
        session.press("/")
        session.press("-l", "re:(a+)+$")
        session.press("Enter")
        let status = try runProgram(
            corralExecutable, ["ctl", "--socket", directory.socket, "status"], timeout: .seconds(10))
        #expect(status.status == 0, "the control socket did not answer: \(status.stderr)")
        #expect(eventually(within: .seconds(5)) { session.screen().contains("re:(a+)+$") }, "\(session.screen())")
        session.press("Escape")
        session.press("q")
        #expect(run.exitStatus(within: .seconds(15)) == "0", "\(session.screen())")
    }

    @Test("a crash-looping worker shows its restart count and the countdown to its next start")
    func crashLoop() throws {
        let run = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40,
            arguments:
                "--no-control -w 2 --ready-after 0 --restart on-failure --restart-delay 1.5 --max-restarts 50 --exit-on-stop -- "
                + "sh -c '[ $CORRAL_PROCESS_INDEX = 1 ] && { echo boom >&2; sleep 0.2; exit 3; }; exec sleep 60'")
        let session = run.session
        /// The row of slot 1.
        func row() -> String {
            session.screen().split(separator: "\n").first { $0.dropFirst().hasPrefix("1 ") }.map(String.init) ?? ""
        }
        #expect(
            eventually(within: .seconds(15)) {
                let line = row()
                return line.contains("backoff") && line.contains("restart in") && line.contains("exit 3")
            }, "\(session.screen())")
        // RESTARTS counts up with each new generation: at 120 columns it starts at column 52.
        #expect(
            eventually(within: .seconds(15)) {
                let line = Array(row())
                guard line.count > 64 else { return false }
                let cell = String(line[52..<64])
                // `2 (2 crash)`: restarts, and the crashes among them.
                return (Int(cell.prefix { $0.isNumber }) ?? 0) >= 1 && cell.contains("crash)")
            }, "\(session.screen())")
        session.press("q")
        #expect(run.exitStatus() == "0", "\(session.screen())")
    }
}
