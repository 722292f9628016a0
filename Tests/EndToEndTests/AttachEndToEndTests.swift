import CorralTestSupport
import Foundation
import Testing

/// `corral attach` under tmux, on a headless corral: the same dashboard from another terminal.
@Suite("corral attach under tmux", .processExclusive)
struct AttachEndToEndTests {
    typealias Server = ControlEndToEndTests.Server
    typealias TmuxSession = DashboardEndToEndTests.TmuxSession

    @Test("attach shows the pids; q detaches and the server keeps running; t stops it with one SIGTERM each")
    func attachDetachStop() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let server = try Server(socket: directory.socket, ["--workers", "2", "--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 2 })
        let pids = spawnedPids(server.program.stdout)
        let attach = "\(corralExecutable) attach --socket \(directory.socket); echo attach-exit=$?; sleep 60"

        let viewer = try TmuxSession(width: 120, height: 40, command: attach)
        #expect(
            eventually(within: .seconds(10)) {
                let screen = viewer.screen()
                return pids.allSatisfy { screen.contains("\($0)") } && screen.contains("running")
            }, "\(viewer.screen())")
        #expect(viewer.screen().contains("q detach"))
        viewer.press("q")
        #expect(eventually(within: .seconds(10)) { viewer.screen().contains("attach-exit=0") }, "\(viewer.screen())")
        #expect(viewer.screen().contains("keeps running"))
        #expect(pids.allSatisfy(isRunningState), "the workers run on")
        #expect(!hasEnded(server.program.pid))
        #expect(try server.ctl("status").status == 0)

        // Two viewers at once; t in one stops the server, and both show the end.
        let first = try TmuxSession(width: 120, height: 40, command: attach)
        let second = try TmuxSession(width: 100, height: 30, command: attach)
        for session in [first, second] {
            #expect(eventually(within: .seconds(10)) { pids.allSatisfy { session.screen().contains("\($0)") } })
        }
        first.press("t")
        #expect(server.program.wait() == 0)
        let terms = server.program.stdout.split(separator: "\n").filter { $0.contains("SIGTERM sent") }
        #expect(terms.count == 2, "one SIGTERM per worker: \(terms)")
        for session in [first, second] {
            #expect(eventually(within: .seconds(10)) { session.screen().contains("attach-exit=0") })
            #expect(session.screen().contains("stopped: stop requested (SIGTERM); exit status 0"))
        }
    }

    @Test("attach without a terminal, or with no corral, says so")
    func attachErrors() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let missing = try runProgram(corralExecutable, ["attach", "--socket", directory.socket])
        #expect(missing.status == 64 || missing.status == 69, "\(missing.stderr)")
        #expect(!missing.stderr.isEmpty)
        let both = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "--pid", "1", "status"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("exclude each other"))
    }
}
