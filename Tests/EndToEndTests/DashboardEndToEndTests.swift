import CorralTestSupport
import Foundation
import Testing

/// The real `corral` binary under tmux: the dashboard as a person sees it.
@Suite("corral under tmux", .processExclusive)
struct DashboardEndToEndTests {
    /// A tmux session running one command, on a tmux server of its own (its own socket), which
    /// is ended with the session.
    final class TmuxSession {
        let socket = "corral-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let name = "corral"

        init(width: Int, height: Int, command: String) throws {
            let result = try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
            #expect(result.status == 0, "tmux: \(result.stderr)")
        }

        @discardableResult
        func tmux(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram("/usr/bin/tmux", ["-L", socket] + arguments)
        }

        func screen() -> String {
            (try? tmux(["capture-pane", "-p", "-t", name]).stdout) ?? ""
        }

        func press(_ keys: String...) {
            _ = try? tmux(["send-keys", "-t", name] + keys)
        }

        deinit {
            _ = try? tmux(["kill-server"])
            unlink("/tmp/tmux-\(getuid())/\(socket)")
        }
    }

    /// corral run in a tmux session by a shell that records the terminal's modes before and
    /// after, and corral's exit status.
    final class CorralInTmux {
        let session: TmuxSession
        private let directory: URL

        init(width: Int, height: Int, arguments: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let files = directory.path
            session = try TmuxSession(
                width: width, height: height,
                command:
                    "stty -a > \(files)/before; \(corralExecutable) \(arguments); echo $? > \(files)/status; stty -a > \(files)/after; sleep 60"
            )
        }

        /// corral's exit status once it has exited (waits up to `limit`), or nil.
        func exitStatus(within limit: Duration = .seconds(15)) -> String? {
            let path = directory.appendingPathComponent("status").path
            // The shell creates the file before it writes the status into it: wait for a line.
            var status: String?
            let written = eventually(within: limit) {
                status = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines)
                return status?.isEmpty == false
            }
            return written ? status : nil
        }

        /// Whether the terminal's modes after corral are those from before it (`stty -a`).
        func terminalRestored() -> Bool {
            let after = directory.appendingPathComponent("after").path
            guard
                let before = try? String(
                    contentsOfFile: directory.appendingPathComponent("before").path, encoding: .utf8),
                !before.isEmpty
            else { return false }
            // The shell creates the file before stty has written into it: wait for the whole
            // output (a loaded machine can take a while), which must then be the same.
            return eventually(within: .seconds(10)) { (try? String(contentsOfFile: after, encoding: .utf8)) == before }
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    @Test("shows every worker running, answers curl, stops on t, exits 0 and gives the terminal back")
    func dashboard() throws {
        let port = freePort()
        // The extra process takes 1.5 s to stop, so the stopping state and countdown are visible.
        let extra = "trap 'sleep 1.5; exit 0' TERM; while :; do sleep 0.1; done"
        let run = try CorralInTmux(width: 120, height: 40, arguments: "--port \(port) --extra \"\(extra)\"")
        let session = run.session
        let running = eventually(within: .seconds(20)) { session.screen().contains("6/6 running") }
        #expect(running, "never all running:\n\(session.screen())")
        let reply = curl(port)
        #expect(reply.hasPrefix("Hello from worker "), "curl got \(reply)")
        session.press("t")
        let stopping = eventually(within: .seconds(5)) {
            let screen = session.screen()
            return screen.contains("stopping with SIGTERM") && screen.contains("SIGKILL in")
        }
        #expect(stopping, "never showed the stop:\n\(session.screen())")
        #expect(run.exitStatus() == "0", "\(session.screen())")
        #expect(run.terminalRestored(), "terminal modes differ after corral exited")
        let screen = session.screen()
        #expect(screen.contains("stopped: stop requested (SIGTERM); exit status 0"), "\(screen)")
    }

    @Test(
        "SIGTERM or SIGINT to corral itself: a graceful stop, exit 0, the terminal restored",
        arguments: [SIGTERM, SIGINT])
    func signalToCorral(signal: Int32) throws {
        let run = try CorralInTmux(width: 100, height: 30, arguments: "-w 2 -- sleep 1000")
        var supervisor: pid_t?
        let running = eventually(within: .seconds(20)) {
            let header = run.session.screen().split(separator: "\n").first ?? ""
            guard header.contains("2/2 running"), let range = header.range(of: #"pid \d+"#, options: .regularExpression)
            else { return false }
            supervisor = pid_t(header[range].dropFirst(4))
            return true
        }
        #expect(running, "never all running:\n\(run.session.screen())")
        kill(try #require(supervisor), signal)
        #expect(run.exitStatus() == "0", "\(run.session.screen())")
        #expect(run.terminalRestored(), "terminal modes differ after corral exited")
    }

    @Test("SIGHUP and SIGKILL to one process from the menu: intended, the server runs on, exit status 0")
    func operatorSignals() throws {
        let run = try CorralInTmux(width: 120, height: 40, arguments: "-w 3 -- sleep 1000")
        let session = run.session
        #expect(eventually(within: .seconds(20)) { session.screen().contains("3/3 running") })
        // The menu lists INT TERM KILL HUP USR1 USR2: HUP to worker.0, then KILL (confirmed) to worker.1.
        session.press("s", "Down", "Down", "Down", "Enter")
        #expect(eventually(within: .seconds(5)) { session.screen().contains("stopped by operator (SIGHUP)") })
        session.press("Down", "s", "Down", "Down", "Enter")
        #expect(eventually(within: .seconds(5)) { session.screen().contains("SIGKILL worker.1") })
        session.press("y")
        #expect(eventually(within: .seconds(5)) { session.screen().contains("stopped by operator (SIGKILL)") })
        #expect(session.screen().contains("1/3 running"), "\(session.screen())")
        session.press("q")
        #expect(run.exitStatus() == "0", "\(session.screen())")
    }

    @Test("the terminal closes under corral: it stops its workers and exits, nothing left behind")
    func terminalClosed() throws {
        let session = try TmuxSession(
            width: 100, height: 30, command: "\(corralExecutable) -w 2 -- sleep 1000; sleep 60")
        var pids: [pid_t] = []
        let running = eventually(within: .seconds(20)) {
            let lines = session.screen().split(separator: "\n")
            guard lines.first?.contains("2/2 running") == true else { return false }
            // The header's supervisor pid, then the PID column of each process row.
            pids = lines.compactMap { line in
                if let range = line.range(of: #"pid \d+"#, options: .regularExpression), line.contains("corral ·") {
                    return pid_t(line[range].dropFirst(4))
                }
                let fields = line.split(separator: " ")
                guard fields.count > 2, fields[2].hasPrefix("worker.") else { return nil }
                return pid_t(fields[1])
            }
            return pids.count == 3
        }
        #expect(running, "never all running:\n\(session.screen())")
        _ = try? session.tmux(["kill-session", "-t", session.name])
        let gone = eventually(within: .seconds(5)) { pids.allSatisfy(hasEnded) }
        #expect(gone, "left behind: \(pids.filter { !hasEnded($0) })")
        for pid in pids where !hasEnded(pid) { kill(pid, SIGKILL) }
    }

    @Test("an error while the dashboard is up: the terminal is restored and the error shown")
    func errorUnderDashboard() throws {
        // /etc/hostname exists but is not executable: the spawn fails once the dashboard is up.
        let run = try CorralInTmux(width: 100, height: 30, arguments: "-- /etc/hostname")
        #expect(run.exitStatus() == "64", "\(run.session.screen())")
        #expect(run.terminalRestored(), "terminal modes differ after corral exited")
        #expect(run.session.screen().contains("corral: cannot start /etc/hostname"), "\(run.session.screen())")
    }
}
