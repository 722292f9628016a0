import CorralTestSupport
import Foundation
import Testing

/// `corral` running a project file: a Procfile with its .env, names and PORTs; what cannot run
/// yet refused with its line.
@Suite("corral runs a project file", .processExclusive)
struct ProjectRunEndToEndTests {
    typealias ProjectDirectory = CheckEndToEndTests.ProjectDirectory

    /// Each process prints its name, program, index, count, PORT and a variable from .env.
    static let procfile = """
        web: echo "$CORRAL_PROCESS_NAME $CORRAL_PROGRAM $CORRAL_PROCESS_INDEX/$CORRAL_WORKER_COUNT PORT=$PORT G=$GREETING"; exec sleep 60
        clock: echo "$CORRAL_PROCESS_NAME $CORRAL_PROGRAM $CORRAL_PROCESS_INDEX/$CORRAL_WORKER_COUNT PORT=$PORT G=$GREETING"; exec sleep 60
        # A comment line, then a third program.
        worker: echo "$CORRAL_PROCESS_NAME $CORRAL_PROGRAM $CORRAL_PROCESS_INDEX/$CORRAL_WORKER_COUNT PORT=$PORT G=$GREETING"; exec sleep 60
        """

    @Test("a Procfile and .env found in the working directory: every process named, numbered and given its PORT")
    func procfile() throws {
        let project = try ProjectDirectory(["Procfile": Self.procfile, ".env": "GREETING='hello world'\n"])
        let corral = try RunningProgram(
            "/bin/sh",
            [
                "-c",
                "cd '\(project.path)' && exec '\(corralExecutable)' --json --no-control --formation web=2 --wait-timeout 2",
            ])
        defer {
            kill(corral.pid, SIGTERM)
            corral.wait()
        }
        let expected = [
            "web.0 web 0/2 PORT=5000 G=hello world", "web.1 web 1/2 PORT=5001 G=hello world",
            "clock.0 clock 0/1 PORT=5100 G=hello world", "worker.0 worker 0/1 PORT=5200 G=hello world",
        ]
        #expect(
            eventually(within: .seconds(10)) { expected.allSatisfy { corral.stdout.contains($0) } }, "\(corral.stdout)")
        #expect(corral.stdout.contains(#""event":"spawned","index":2"#))
        #expect(corral.stdout.contains(#""name":"clock.0","program":"clock""#))
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let pids = corral.stdout.split(separator: "\n").compactMap { line -> pid_t? in
            guard line.contains(#""event":"spawned""#), let range = line.range(of: #""pid":"#) else { return nil }
            return pid_t(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(pids.count == 4)
        #expect(pids.allSatisfy(hasEnded))
    }

    @Test("-f FILE runs that file; a command and -f together are refused")
    func fileOption() throws {
        let project = try ProjectDirectory(["apps.procfile": "one: echo one-ran; exec sleep 60\n"])
        let corral = try RunningProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/apps.procfile", "--no-env-file"])
        defer {
            kill(corral.pid, SIGTERM)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("one.0 | one-ran") }, "\(corral.stdout)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let both = try runProgram(corralExecutable, ["--no-tui", "-f", project.path + "/apps.procfile", "--", "true"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("either -f FILE or a command"))
    }

    @Test("a setting of the whole run set differently by a program is refused at start with its line; nothing starts")
    func refused() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.migrate]
            command = "echo migrated"

            [programs.web]
            command = "exec sleep 60"
            reload-batch = 3
            """
        ])
        let file = project.path + "/corral.toml"
        let result = try runProgram(corralExecutable, ["--no-tui", "--no-control", "-f", file])
        #expect(result.status == 64)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines.contains { $0.hasPrefix("\(file):6: reload-batch differs between programs: it is the whole run's") },
            "\(result.stderr)")
        #expect(!result.stdout.contains("spawned"))
    }

    @Test("a one-shot migrate that web waits for: web is spawned only after migrate exited 0, said to wait meanwhile")
    func dependencies() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "echo serving; exec sleep 60"
            workers = 2
            depends-on = [{ program = "migrate", condition = "completed-successfully" }]

            [programs.migrate]
            command = "sleep 0.5; echo migrated"
            oneshot = true
            """
        ])
        let corral = try RunningProgram(
            corralExecutable,
            ["--json", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file", "--ready-after", "0"])
        defer {
            kill(corral.pid, SIGTERM)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains(#""event":"server","state":"running""#) })
        let events = corral.stdout.split(separator: "\n").map(String.init)
        func position(_ fragments: String...) -> Int? {
            events.firstIndex { line in fragments.allSatisfy { line.contains($0) } }
        }
        let waiting = position(#""event":"waiting""#, #""name":"web.0""#, "migrate to complete successfully")
        let migrated = position(#""event":"exited""#, #""name":"migrate.0""#)
        let webSpawned = position(#""event":"spawned""#, #""name":"web.0""#)
        #expect(waiting != nil && migrated != nil && webSpawned != nil, "\(corral.stdout)")
        if let waiting, let migrated, let webSpawned {
            #expect(waiting < migrated && migrated < webSpawned, "web spawned before migrate ended")
        }
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
    }

    @Test("a failing one-shot fails the run; what depends on it never starts")
    func failingDependency() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.migrate]
            command = "echo boom >&2; exit 3"
            oneshot = true

            [programs.web]
            command = "exec sleep 60"
            depends-on = [{ program = "migrate", condition = "completed-successfully" }]
            """
        ])
        let result = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("stopped: migrate.0 failed"), "\(result.stdout)")
        #expect(!result.stdout.contains("web.0 pid="), "web never started")
    }

    @Test("a run of one-shots ends when they all completed, exit 0")
    func oneshots() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.first]
            command = "echo one"
            oneshot = true

            [programs.second]
            command = "echo two"
            oneshot = true
            depends-on = [{ program = "first", condition = "completed" }]
            """
        ])
        let result = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("every one-shot completed"))
    }

    @Test(
        "ctl names processes: status shows web.0, restart web.1 and signal SIG web.0 reach them; unknown names refused")
    func ctlNames() throws {
        let project = try ProjectDirectory([
            "Procfile": "web: trap 'echo got-usr1' USR1; echo up; while :; do sleep 0.1; done\nclock: exec sleep 60\n"
        ])
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--no-tui", "--control", directory.socket, "-f", project.path + "/Procfile", "--no-env-file",
                "--formation", "web=2", "--ready-after", "0",
            ])
        defer {
            kill(corral.pid, SIGTERM)
            corral.wait()
        }
        func ctl(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(corralExecutable, ["ctl", "--socket", directory.socket] + arguments)
        }
        #expect(eventually(within: .seconds(10)) { (try? ctl("status"))?.stdout.contains("clock.0") == true })
        let status = try ctl("status")
        for name in ["web.0", "web.1", "clock.0"] { #expect(status.stdout.contains(name), "\(status.stdout)") }
        let signalled = try ctl("signal", "USR1", "web.0")
        #expect(signalled.status == 0, "\(signalled.stderr)")
        #expect(signalled.stdout.contains("web.0"))
        #expect(eventually(within: .seconds(5)) { corral.stdout.contains("web.0 | got-usr1") }, "\(corral.stdout)")
        #expect(!corral.stdout.contains("web.1 | got-usr1"))
        let restarted = try ctl("restart", "web.1")
        #expect(restarted.status == 0, "\(restarted.stderr)")
        #expect(
            eventually(within: .seconds(10)) {
                corral.stdout.contains("web.1 pid=") && corral.stdout.contains("(generation 1)")
            })
        let unknown = try ctl("restart", "web.7")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no process named web.7"))
        let program = try ctl("restart", "web")
        #expect(program.status == 1)
        #expect(program.stderr.contains("web is a program"))
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
    }

    @Test("the stop runs in reverse order: db gets its stop signal only once web, which depends on it, has ended")
    func reverseStop() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.db]
            command = "trap 'echo db-stopping; exit 0' TERM; echo db-up; while :; do sleep 0.05; done"

            [programs.web]
            command = "trap 'sleep 0.5; echo web-stopped; exit 0' TERM; echo web-up; while :; do sleep 0.05; done"
            depends-on = ["db"]
            """
        ])
        let corral = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file", "--ready-after", "0"])
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") }, "\(corral.stdout)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stdout)")
        let lines = corral.stdout.split(separator: "\n").map(String.init)
        let webStopped = lines.firstIndex { $0.contains("web.0 | web-stopped") }
        let dbStopping = lines.firstIndex { $0.contains("db.0 | db-stopping") }
        #expect(webStopped != nil && dbStopping != nil, "\(corral.stdout)")
        if let webStopped, let dbStopping { #expect(webStopped < dbStopping, "db was stopped before web ended") }
    }

    @Test("working-dir: a program starts in its directory (relative to the file); a missing one is a spawn error")
    func workingDirectory() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.here]
            command = "pwd"
            oneshot = true
            working-dir = "sub"
            """
        ])
        try FileManager.default.createDirectory(atPath: project.path + "/sub", withIntermediateDirectories: false)
        let result = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("here.0 | \(project.path)/sub"), "\(result.stdout)")
        try FileManager.default.removeItem(atPath: project.path + "/sub")
        let missing = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("entering its working directory"), "\(missing.stderr)")
    }

    @Test("a program that cannot start ends the start; the processes started ahead of their turn do not outlive it")
    func failedStartAbandonsTheOnesAhead() throws {
        // `broken` is slot 0; `fine`'s six workers follow and go to the spawner ahead of their
        // turn while `broken` is being started. Its failure ends the run: those are killed.
        let marker = "61.\(getpid())"
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.broken]
            command = "exec sleep 60"
            working-dir = "missing"

            [programs.fine]
            command = "exec sleep \(marker)"
            workers = 6
            """
        ])
        let result = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file"])
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("entering its working directory"), "\(result.stderr)")
        #expect(processes(withArgument: marker).isEmpty, "a worker started ahead outlived corral")
    }

    @Test("readiness is each program's own: web waits for its log line, worker for its second of uptime")
    func perProgramReadiness() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "sleep 0.3; echo listening now; exec sleep 60"
            ready = "log:listening"
            ready-after = 0

            [programs.worker]
            command = "exec sleep 60"
            """
        ])
        let corral = try RunningProgram(
            corralExecutable, ["--no-tui", "--no-control", "-f", project.path + "/corral.toml", "--no-env-file"])
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") }, "\(corral.stdout)")
        #expect(corral.stdout.contains("web.0 pid=") && corral.stdout.contains("waiting for log 'listening'"))
        #expect(corral.stdout.contains("ready; running once up for 1 s"), "worker keeps the default readiness")
        let lines = corral.stdout.split(separator: "\n").map(String.init)
        let line = lines.firstIndex { $0.contains("web.0 | listening now") }
        let running = lines.firstIndex { $0.contains("web.0 pid=") && $0.hasSuffix(" running") }
        #expect(line != nil && running != nil, "\(corral.stdout)")
        if let line, let running { #expect(line < running, "web ran before its line") }
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
    }
}
