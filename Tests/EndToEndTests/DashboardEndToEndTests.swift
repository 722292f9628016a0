import Foundation
import Testing

/// The real `corral` binary under tmux: the dashboard as a person sees it.
@Suite("corral under tmux")
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

    @Test("shows every worker running, answers curl, stops on t, exits 0 and gives the terminal back")
    func dashboard() throws {
        let port = freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-e2e-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let status = directory.appendingPathComponent("status").path
        let stty = directory.appendingPathComponent("stty").path
        // The extra process takes 1.5 s to stop, so the stopping state and countdown are visible.
        let extra = "trap 'sleep 1.5; exit 0' TERM; while :; do sleep 0.1; done"
        let session = try TmuxSession(
            width: 120, height: 40,
            command:
                "stty -a > \(stty).before; \(corralExecutable) --port \(port) --extra \"\(extra)\"; echo $? > \(status); stty -a > \(stty).after; sleep 60"
        )
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
        let exited = eventually(within: .seconds(15)) { FileManager.default.fileExists(atPath: status) }
        #expect(exited, "corral did not exit:\n\(session.screen())")
        let code = (try? String(contentsOfFile: status, encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(code == "0")
        let after = eventually(within: .seconds(5)) { FileManager.default.fileExists(atPath: stty + ".after") }
        #expect(after)
        let before = try String(contentsOfFile: stty + ".before", encoding: .utf8)
        let restored = try String(contentsOfFile: stty + ".after", encoding: .utf8)
        #expect(before == restored, "terminal modes differ after corral exited")
        let screen = session.screen()
        #expect(screen.contains("stopped: stop requested (SIGTERM); exit status 0"), "\(screen)")
    }

    @Test(
        "SIGTERM or SIGINT to corral itself: a graceful stop, exit 0, the terminal restored",
        arguments: [SIGTERM, SIGINT])
    func signalToCorral(signal: Int32) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-e2e-sig-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let status = directory.appendingPathComponent("status").path
        let stty = directory.appendingPathComponent("stty").path
        let session = try TmuxSession(
            width: 100, height: 30,
            command:
                "stty -a > \(stty).before; \(corralExecutable) -w 2 -- sleep 1000; echo $? > \(status); stty -a > \(stty).after; sleep 60"
        )
        var supervisor: pid_t?
        let running = eventually(within: .seconds(20)) {
            let header = session.screen().split(separator: "\n").first ?? ""
            guard header.contains("2/2 running"), let range = header.range(of: #"pid \d+"#, options: .regularExpression)
            else { return false }
            supervisor = pid_t(header[range].dropFirst(4))
            return true
        }
        #expect(running, "never all running:\n\(session.screen())")
        let pid = try #require(supervisor)
        kill(pid, signal)
        let exited = eventually(within: .seconds(15)) { FileManager.default.fileExists(atPath: status) }
        #expect(exited, "corral did not exit:\n\(session.screen())")
        let code = (try? String(contentsOfFile: status, encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(code == "0")
        #expect(eventually(within: .seconds(5)) { FileManager.default.fileExists(atPath: stty + ".after") })
        let before = try String(contentsOfFile: stty + ".before", encoding: .utf8)
        let restored = try String(contentsOfFile: stty + ".after", encoding: .utf8)
        #expect(before == restored, "terminal modes differ after corral exited")
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
                guard fields.count > 2, fields[2] == "worker" else { return nil }
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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-e2e-err-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let status = directory.appendingPathComponent("status").path
        let stty = directory.appendingPathComponent("stty").path
        // /etc/hostname exists but is not executable: the spawn fails once the dashboard is up.
        let session = try TmuxSession(
            width: 100, height: 30,
            command:
                "stty -a > \(stty).before; \(corralExecutable) -- /etc/hostname; echo $? > \(status); stty -a > \(stty).after; sleep 60"
        )
        let exited = eventually(within: .seconds(15)) { FileManager.default.fileExists(atPath: status) }
        #expect(exited, "corral did not exit:\n\(session.screen())")
        let code = (try? String(contentsOfFile: status, encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(code == "64")
        #expect(eventually(within: .seconds(5)) { FileManager.default.fileExists(atPath: stty + ".after") })
        let before = try String(contentsOfFile: stty + ".before", encoding: .utf8)
        let restored = try String(contentsOfFile: stty + ".after", encoding: .utf8)
        #expect(before == restored, "terminal modes differ after corral exited")
        #expect(session.screen().contains("corral: cannot start /etc/hostname"), "\(session.screen())")
    }

}
