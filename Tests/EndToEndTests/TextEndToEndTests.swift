import CorralTestSupport
import Foundation
import Testing

/// Children's text as the operator sees it on a terminal, with no UTF-8 locale set.
@Suite("children's text on the operator's terminal", .processExclusive)
struct TextEndToEndTests {
    /// A worker printing non-Latin text, colours, a tab and escape sequences, then sleeping.
    static func script() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corral-text-\(UUID()).sh").path
        let text = """
            printf 'Привет мир → ┌─┐ 日本語 😀 end\\n'
            printf '\\033[31mred\\033[0m\\tafter-tab\\n'
            printf '\\033]0;pwned\\007title \\033[6n query\\n'
            exec sleep 100
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the dashboard shows wide characters by their width, colours and escapes stripped, tabs expanded")
    func dashboard() throws {
        let script = try Self.script()
        defer { unlink(script) }
        let session = try DashboardEndToEndTests.TmuxSession(
            width: 120, height: 40, command: "env -u LANG -u LC_ALL \(corralExecutable) -- sh \(script); sleep 60")
        let shown = eventually(within: .seconds(10)) { session.screen().contains("after-tab") }
        let screen = session.screen()
        #expect(shown, "\(screen)")
        #expect(screen.contains("worker.0 | Привет мир → ┌─┐ 日本語 😀 end"), "\(screen)")
        #expect(screen.contains("worker.0 | red     after-tab"), "\(screen)")
        #expect(screen.contains("worker.0 | title  query"), "\(screen)")
        session.press("q")
    }

    @Test("--no-tui on a terminal shows children's escape sequences as text (^[), never raw")
    func headless() throws {
        let script = try Self.script()
        defer { unlink(script) }
        let session = try DashboardEndToEndTests.TmuxSession(
            width: 120, height: 40, command: "\(corralExecutable) --no-tui -- sh \(script); sleep 60")
        let shown = eventually(within: .seconds(10)) { session.screen().contains("query") }
        let screen = session.screen()
        #expect(shown, "\(screen)")
        #expect(screen.contains("worker.0 | Привет мир → ┌─┐ 日本語 😀 end"), "\(screen)")
        #expect(screen.contains("worker.0 | ^[[31mred^[[0m"), "\(screen)")
        #expect(screen.contains("worker.0 | ^[]0;pwned^Gtitle ^[[6n query"), "\(screen)")
        session.press("q", "Enter")
    }
}

/// What the operator reads about a failure.
@Suite("corral explains a failure", .processExclusive)
struct FailureTextEndToEndTests {
    static let failing = ["sh", "-c", "echo starting; echo 'OSError: [Errno 98] Address already in use' >&2; exit 1"]

    @Test("--no-tui and --json carry the failed process's last stderr lines, and name it worker.N")
    func lastLines() throws {
        let text = try runProgram(corralExecutable, ["--no-tui", "--"] + Self.failing)
        #expect(text.status == 1)
        #expect(text.stdout.contains("its last lines on stderr:\n    OSError: [Errno 98] Address already in use"))
        #expect(text.stdout.contains("corral stopped: worker.0 failed; exit status 1"), "\(text.stdout)")
        let json = try runProgram(corralExecutable, ["--json", "--"] + Self.failing)
        let exited = json.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.first { $0["event"] as? String == "exited" }
        #expect(exited?["last_lines"] as? [String] == ["OSError: [Errno 98] Address already in use"])
        #expect(json.stdout.contains("\"cause\":\"worker.0 failed\""))
    }

    @Test("after a failure the dashboard holds its final screen until a key; --exit-on-stop does not wait")
    func dashboardHolds() throws {
        let command = Self.failing.dropFirst(2).first ?? ""
        let run = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40, arguments: "-w 2 -- sh -c \"\(command)\"")
        #expect(eventually(within: .seconds(10)) { run.session.screen().contains("press any key to exit") })
        #expect(run.session.screen().contains("OSError: [Errno 98] Address already in use"))
        #expect(run.exitStatus(within: .milliseconds(500)) == nil, "the dashboard did not wait for a key")
        run.session.press("x")
        #expect(run.exitStatus() == "1")
        let summary = run.session.screen()
        #expect(summary.contains("stopped: worker.0 failed") || summary.contains("stopped: worker.1 failed"))
        #expect(summary.contains("      OSError: [Errno 98] Address already in use"), "\(summary)")
        #expect(run.terminalRestored())

        let quick = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40, arguments: "--exit-on-stop -- sh -c \"\(command)\"")
        #expect(quick.exitStatus() == "1")
    }
}
