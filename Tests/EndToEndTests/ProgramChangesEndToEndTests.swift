import CorralTestSupport
import Foundation
import Testing

/// A project run changed while it serves, on real processes: its file read again (added,
/// removed, changed, unchanged), a bad file that changes nothing, a program scaled and
/// signalled by name.
@Suite("corral changes a project run while it serves", .processExclusive)
struct ProgramChangesEndToEndTests {
    typealias ProjectDirectory = CheckEndToEndTests.ProjectDirectory

    /// A headless corral (JSON events) running `corral.toml` in `project`, with its control
    /// socket in the project's directory.
    final class ProjectServer {
        let program: RunningProgram
        let socket: String

        init(_ project: ProjectDirectory, _ arguments: [String] = []) throws {
            socket = project.path + "/c.sock"
            program = try RunningProgram(
                corralExecutable,
                ["--json", "--control", socket, "-f", project.path + "/corral.toml", "--wait-timeout", "3"]
                    + arguments)
            #expect(
                eventually(within: .seconds(10)) { program.stdout.contains(#""event":"server","state":"running""#) },
                "\(program.stdout)\(program.stderr)")
        }

        /// `corral ctl --socket … arguments`.
        func ctl(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(corralExecutable, ["ctl", "--socket", socket] + arguments)
        }

        /// The JSON events so far that contain every fragment.
        func events(_ fragments: String...) -> [String] {
            program.stdout.split(separator: "\n").map(String.init).filter { line in
                fragments.allSatisfy { line.contains($0) }
            }
        }

        /// Every pid a `spawned` event named.
        var spawnedPids: [pid_t] {
            events(#""event":"spawned""#).compactMap { line in
                guard let range = line.range(of: #""pid":"#) else { return nil }
                return pid_t(line[range.upperBound...].prefix { $0.isNumber })
            }
        }

        /// The pid of the process named `name` as `ctl status --json` shows it.
        func pid(of name: String) throws -> Int? {
            let result = try ctl("status", "--json")
            let status = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let processes = status?["processes"] as? [[String: Any]] ?? []
            return processes.first { $0["name"] as? String == name }?["pid"] as? Int
        }
    }

    static let before = """
        [programs.web]
        command = "echo web-$CORRAL_PROCESS_NAME; exec sleep 60"
        workers = 2

        [programs.clock]
        command = "exec sleep 61"

        [programs.worker]
        command = "echo worker-mode-$MODE; exec sleep 62"
        env = { MODE = "slow" }
        """

    static let after = """
        [programs.web]
        command = "echo web-$CORRAL_PROCESS_NAME; exec sleep 60"
        workers = 2

        [programs.worker]
        command = "echo worker-mode-$MODE; exec sleep 62"
        env = { MODE = "fast" }

        [programs.api]
        command = "echo api-started; exec sleep 63"
        depends-on = ["web"]
        """

    @Test("ctl reload reads the file again: api added, clock removed, worker reloaded, web's pids unchanged")
    func fileReload() throws {
        let project = try ProjectDirectory(["corral.toml": Self.before])
        let server = try ProjectServer(project, ["--ready-after", "0.2"])
        defer {
            kill(server.program.pid, SIGKILL)
            server.program.wait()
        }
        let web = [try server.pid(of: "web.0"), try server.pid(of: "web.1")]
        let clock = try server.pid(of: "clock.0")
        #expect(web.allSatisfy { $0 != nil } && clock != nil)
        try Self.after.write(toFile: project.path + "/corral.toml", atomically: true, encoding: .utf8)
        let reply = try server.ctl("reload")
        #expect(reply.status == 0, "\(reply.stderr)")
        #expect(
            reply.stdout.contains("read again: added: api; removed: clock; changed: worker; unchanged: web"),
            "\(reply.stdout)")
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("worker-mode-fast") })
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("api-started") })
        #expect(eventually(within: .seconds(10)) { !server.events(#""event":"reload","phase":"done""#).isEmpty })
        #expect(server.events(#""event":"reload","phase":"programs""#, #""added":["api"]"#).count == 1)
        #expect(server.events(#""event":"signal""#, #""name":"clock.0""#, #""reason":"removed""#).count == 1)
        if let clock { #expect(eventually(within: .seconds(5)) { hasEnded(pid_t(clock)) }) }
        #expect([try server.pid(of: "web.0"), try server.pid(of: "web.1")] == web, "web was not touched")
        #expect(server.events(#""event":"spawned""#, #""program":"web""#).count == 2)
        #expect(server.events(#""event":"spawned""#, #""name":"worker.0""#, #""generation":1"#).count == 1)

        // A file that no longer reads changes nothing, and says why with its line.
        try (Self.after + "\nwokers = 2\n").write(
            toFile: project.path + "/corral.toml", atomically: true, encoding: .utf8)
        let bad = try server.ctl("reload")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("corral.toml:12: unknown key \"wokers\""), "\(bad.stderr)")
        #expect(
            eventually(within: .seconds(5)) {
                !server.events(#""event":"reload","phase":"refused""#, "corral.toml:12").isEmpty
            })
        #expect([try server.pid(of: "web.0"), try server.pid(of: "web.1")] == web)

        // SIGHUP reads it again too.
        try Self.after.write(toFile: project.path + "/corral.toml", atomically: true, encoding: .utf8)
        kill(server.program.pid, SIGHUP)
        #expect(
            eventually(within: .seconds(5)) {
                !server.events(#""phase":"programs""#, #""unchanged":["web","worker","api"]"#).isEmpty
            }, "\(server.program.stdout)")
        #expect(try server.ctl("stop").status == 0)
        #expect(server.program.wait() == 0)
        let pids = server.spawnedPids
        #expect(pids.count == 6)
        #expect(pids.allSatisfy(hasEnded))
    }

    @Test("ctl scale web=4 adds web.2 and web.3; ctl signal USR1 web reaches web's processes only")
    func scaleAndSignalProgram() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "trap 'echo got-usr1-$CORRAL_PROCESS_NAME' USR1; echo count-$CORRAL_PROCESS_NAME-$CORRAL_WORKER_COUNT; while :; do sleep 0.1; done"
            workers = 2

            [programs.clock]
            command = "trap 'echo got-usr1-clock' USR1; while :; do sleep 0.1; done"
            """
        ])
        let server = try ProjectServer(project, ["--ready-after", "0"])
        defer {
            kill(server.program.pid, SIGKILL)
            server.program.wait()
        }
        let scaled = try server.ctl("scale", "web=4")
        #expect(scaled.status == 0)
        #expect(scaled.stdout.contains("scaling web to 4 processes: web.2, web.3 start"), "\(scaled.stdout)")
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("count-web.3-4") })
        #expect(server.events(#""event":"added""#, #""name":"web.2""#).count == 1)
        let several = try server.ctl("scale", "3")
        #expect(several.status == 1)
        #expect(several.stderr.contains("name the program to scale"), "\(several.stderr)")
        let signalled = try server.ctl("signal", "USR1", "web")
        #expect(signalled.status == 0)
        #expect(signalled.stdout.contains("SIGUSR1 to web (web.0, web.1, web.2, web.3)"), "\(signalled.stdout)")
        #expect(
            eventually(within: .seconds(5)) {
                (0..<4).allSatisfy { server.program.stdout.contains("got-usr1-web.\($0)") }
            })
        #expect(!server.program.stdout.contains("got-usr1-clock"))
        let down = try server.ctl("scale", "web=1")
        #expect(down.stdout.contains("web.3, web.2, web.1 stop"), "\(down.stdout)")
        #expect(eventually(within: .seconds(5)) { server.events(#""event":"exited""#, #""program":"web""#).count == 3 })
        #expect(try server.ctl("stop").status == 0)
        #expect(server.program.wait() == 0)
        #expect(server.spawnedPids.count == 5)
        #expect(server.spawnedPids.allSatisfy(hasEnded))
    }
}

/// Each program's own settings from a corral.toml, on real processes.
@Suite("corral runs each program with its own settings", .processExclusive)
struct ProgramSettingsEndToEndTests {
    typealias ProjectDirectory = CheckEndToEndTests.ProjectDirectory

    @Test("own stop signals, wait timeout, restart policy and sockets, each for its program alone")
    func ownSettings() throws {
        let port = freePort()
        let project = try ProjectDirectory([
            "corral.toml": """
            wait-timeout = 5

            [programs.web]
            command = "trap 'echo web-got-usr2; exit 0' USR2; echo web-fds=$LISTEN_FDNAMES; while :; do sleep 0.05; done"
            stop-signals = "USR2"
            listen = ["http=127.0.0.1:\(port)"]

            [programs.stubborn]
            command = "trap 'echo stubborn-ignores-term' TERM; echo stubborn-fds=${LISTEN_FDS:-none}; while :; do sleep 0.05; done"
            wait-timeout = 1

            [programs.flaky]
            command = "if [ -e flaky-ran ]; then echo flaky-again; exec sleep 60; fi; touch flaky-ran; exit 3"
            restart = "always"
            restart-delay = 0.1
            """
        ])
        let corral = try RunningProgram(
            "/bin/sh",
            [
                "-c",
                "cd '\(project.path)' && exec '\(corralExecutable)' --no-tui --no-control --ready-after 0",
            ])
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(
            eventually(within: .seconds(10)) { corral.stdout.contains("flaky.0 | flaky-again") }, "\(corral.stdout)")
        #expect(corral.stdout.contains("web.0 | web-fds=http"), "web gets its socket")
        #expect(corral.stdout.contains("stubborn.0 | stubborn-fds=none"), "stubborn gets none")
        kill(corral.pid, SIGTERM)
        let started = ContinuousClock.now
        #expect(corral.wait() == 2, "stubborn was SIGKILLed at its deadline: \(corral.stdout)")
        let took = ContinuousClock.now - started
        #expect(took < .seconds(4), "stubborn's own 1 s, not the run's 5 s: \(took)")
        #expect(corral.stdout.contains("web.0 | web-got-usr2"), "web stops with its own SIGUSR2")
        #expect(corral.stdout.contains("web.0 pid="))
        #expect(corral.stdout.contains("SIGKILL sent after 1.0 s timeout"), "\(corral.stdout)")
        #expect(
            spawnedPids(corral.stdout).count == 3, "the first spawn of each process (a restart says its generation)")
        #expect(spawnedPids(corral.stdout).allSatisfy(hasEnded))
    }
}
