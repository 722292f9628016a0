import ArgumentParser
import CorralEngine
import SystemPackage
import Testing

@testable import corral

@Suite("Command line: parsing and validation")
struct OptionsTests {
    let terminal = TerminalFacts(stdoutIsTerminal: true, stdinIsTerminal: true, term: "xterm-256color", noColor: false)

    func settings(_ arguments: [String], terminal: TerminalFacts? = nil) throws -> ConsoleSettings {
        try CorralCommand.parse(splitting: arguments).settings(terminal: terminal ?? self.terminal)
    }

    @Test(
        "the command after -- is taken as it is, however long, options before it still parsed", .timeLimit(.minutes(1)))
    func longCommand() throws {
        let arguments = (1...100_000).map(String.init)
        let parsed = try settings(["-w", "2", "--", "sh", "-c", "echo $#", "sh"] + arguments + ["--", "-w"])
        #expect(
            parsed.program == .command(["sh", "-c", "echo $#", "sh"] + arguments + ["--", "-w"], readiness: .onExec))
        #expect(parsed.workers == 2)
        #expect(throws: (any Error).self) { _ = try settings(["--ready", "bogus", "--", "true"]) }
    }

    @Test("-h or --help among the words parsed asks for the help, whatever the process's own arguments")
    func helpAmongParsedWords() {
        for words in [["--help"], ["-w", "2", "-h"], ["--no-tui", "--help-hidden", "--", "true"]] {
            let error = #expect(throws: (any Error).self) { _ = try CorralCommand.parse(splitting: words) }
            #expect(error.map { CorralCommand.exitCode(for: $0) } == .success, "\(words)")
            #expect(error.map { CorralCommand.fullMessage(for: $0).hasPrefix("OVERVIEW: ") } == true, "\(words)")
        }
    }

    @Test("defaults: the demo with 4 workers, INT and TERM, 10 s, the dashboard on a terminal")
    func defaults() throws {
        let demo = try settings([])
        #expect(demo.program == .demo(port: 8080))
        #expect(demo.workers == 4)
        #expect(demo.stopSignals == [.interrupt, .terminate])
        #expect(demo.waitTimeout == .seconds(10))
        #expect(demo.display == .dashboard)
        #expect(demo.failurePolicy == .stopAll)
        let command = try settings(["--", "python3", "app.py"])
        #expect(command.program == .command(["python3", "app.py"], readiness: .onExec))
        #expect(command.workers == 1)
    }

    @Test("options set what they say")
    func options() throws {
        let parsed = try settings([
            "-w", "3", "--extra", "sleep 100", "--stop-signals", "TERM, usr1", "--wait-timeout", "2.5", "--ready",
            "notify", "--keep-running", "--json", "--", "app", "--flag",
        ])
        #expect(parsed.program == .command(["app", "--flag"], readiness: .notify))
        #expect(parsed.workers == 3)
        #expect(parsed.extras == ["sleep 100"])
        #expect(parsed.stopSignals == [.terminate, .user1])
        #expect(parsed.waitTimeout == .milliseconds(2500))
        #expect(parsed.failurePolicy == .keepRunning)
        #expect(parsed.display == .json)
        #expect(try settings(["--wait-timeout", "none"]).waitTimeout == nil)
        #expect(try settings(["--wait-timeout", "0"]).waitTimeout == .zero)
        let configuration = parsed.configuration(demoTicker: nil)
        #expect(configuration.extras.count == 1)
        #expect(configuration.workers == 3)
    }

    @Test("--ready forms, --ready-after and its default, probe timing, --reload-batch all")
    func readinessOptions() throws {
        let forms: [(String, Readiness)] = [
            ("log:Application startup complete", .outputLine(.text("Application startup complete"))),
            ("log:re:listening on [0-9]+", .outputLine(.regex("listening on [0-9]+"))),
            ("tcp:127.0.0.1:8000", .probe(.tcp(host: "127.0.0.1", port: "8000"))),
            ("tcp:[::1]:${PORT}", .probe(.tcp(host: "::1", port: "${PORT}"))),
            ("http://127.0.0.1:${PORT}/health", .probe(.http("http://127.0.0.1:${PORT}/health"))),
            ("exec:curl -sf localhost/health", .probe(.command("curl -sf localhost/health"))),
        ]
        for (text, readiness) in forms {
            #expect(try settings(["--ready", text, "--", "app"]).program == .command(["app"], readiness: readiness))
        }
        let exec = try settings(["--", "app"]).configuration(demoTicker: nil)
        #expect(exec.effectiveReadyAfter == .seconds(1))
        let notify = try settings(["--ready", "notify", "--", "app"]).configuration(demoTicker: nil)
        #expect(notify.effectiveReadyAfter == .zero)
        let tuned = try settings([
            "--ready", "tcp:localhost:80", "--ready-after", "2.5", "--probe-interval", "0.5", "--probe-timeout", "3",
            "--reload-batch", "all", "--", "app",
        ]).configuration(demoTicker: nil)
        #expect(tuned.effectiveReadyAfter == .milliseconds(2500))
        #expect(tuned.probeInterval == .milliseconds(500))
        #expect(tuned.probeTimeout == .seconds(3))
        #expect(tuned.reloadBatch == SupervisorConfiguration.reloadAll)
        #expect(try settings(["--reload-batch", "4"]).reloadBatch == 4)
    }

    @Test("no terminal, TERM unset or dumb: headless; --no-tui always headless")
    func display() throws {
        #expect(try settings(["--no-tui"]).display == .log)
        let pipe = TerminalFacts(stdoutIsTerminal: false, stdinIsTerminal: true, term: "xterm", noColor: false)
        #expect(try settings([], terminal: pipe).display == .log)
        #expect(pipe.whyNoDashboard == "standard output is not a terminal")
        let dumb = TerminalFacts(stdoutIsTerminal: true, stdinIsTerminal: true, term: "dumb", noColor: false)
        #expect(try settings([], terminal: dumb).display == .log)
        let unset = TerminalFacts(stdoutIsTerminal: true, stdinIsTerminal: true, term: nil, noColor: false)
        #expect(unset.whyNoDashboard == "TERM is not set")
    }

    @Test(
        "bad values are refused with a message that says what to fix",
        arguments: [
            (["-w", "0"], "--workers must be between 1 and 4096 (got 0)"),
            (["-w", "-1"], "--workers must be between 1 and 4096 (got -1)"),
            (["-w", "5000"], "--workers must be between 1 and 4096 (got 5000)"),
            (["--stop-signals", "FOO"], "--stop-signals: unknown signal 'FOO'; use names like INT, TERM, HUP, USR1"),
            (["--stop-signals", ""], "--stop-signals needs signal names, e.g. INT,TERM (got '')"),
            (["--stop-signals", "INT,,TERM"], "--stop-signals needs signal names, e.g. INT,TERM (got 'INT,,TERM')"),
            (["--stop-signals", "STOP"], "--stop-signals: SIGSTOP cannot be caught, so it cannot be forwarded"),
            (["--wait-timeout", "-1"], "--wait-timeout cannot be negative (got -1); use 0 for an immediate SIGKILL"),
            (["--wait-timeout", "nan"], "--wait-timeout must be a number of seconds or 'none' (got 'nan')"),
            (["--wait-timeout", "inf"], "--wait-timeout must be a number of seconds or 'none' (got 'inf')"),
            (["--wait-timeout", "1e9"], "--wait-timeout is over a week (1e9 s); use 'none' to wait forever"),
            (
                ["--ready", "soon", "--", "x"],
                "--ready: 'soon' is not one of exec, notify, log:TEXT, log:re:REGEX, tcp:HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND"
            ),
            (["--ready", "log:", "--", "x"], "--ready: log: needs the text to wait for, e.g. log:listening"),
            (
                ["--ready", "log:re:(", "--", "x"],
                "--ready: log:re:( is not a regular expression: unmatched ( or \\("
            ),
            (
                ["--ready", "tcp:example.com:80", "--", "x"],
                "--ready: 'example.com' in tcp:example.com:80 is not an IP address or localhost (no name is looked up)"
            ),
            (
                ["--ready", "http://127.0.0.1:0/", "--", "x"],
                "--ready: '0' in http://127.0.0.1:0/ is not a port (1-65535)"
            ),
            (["--ready", "tcp:8000", "--", "x"], "--ready: 'tcp:8000' needs a host and a port: tcp:HOST:PORT"),
            (["--ready-after", "-1", "--", "x"], "--ready-after cannot be negative (got -1)"),
            (["--probe-interval", "0", "--", "x"], "--probe-interval must be at least 0.01 seconds (got 0)"),
            (["--reload-batch", "0"], "--reload-batch must be a number, 1 or more, or all (got '0')"),
            (["--port", "70000"], "--port must be between 1 and 65535 (got 70000)"),
            (["--extra", "  "], "--extra needs a command, e.g. --extra 'python3 metrics.py'"),
            (["--restart", "sometimes"], "--restart must be no, on-failure or always (got 'sometimes')"),
            (["--restart-delay", "-1"], "--restart-delay cannot be negative (got -1)"),
            (["--restart-delay", "soon"], "--restart-delay must be a number of seconds (got 'soon')"),
            (
                ["--restart-delay", "5", "--restart-max-delay", "1"],
                "--restart-max-delay (1) must be at least --restart-delay (5)"
            ),
            (["--restart-reset", "0.5"], "--restart-reset must be at least 1 second (got 0.5)"),
            (["--max-restarts", "-2"], "--max-restarts cannot be negative (got -2); use 0 to never restart twice"),
            (["--restart-window", "0"], "--restart-window must be more than 0 seconds (got 0)"),
            (
                ["--log-dir", "/tmp/x", "--log-max-size", "100"],
                "--log-max-size must be between 1K and 64G (got '100')"
            ),
            (
                ["--log-dir", "/tmp/x", "--log-max-size", "lots"],
                "--log-max-size must be a size like 512K, 2M or 1G (got 'lots')"
            ),
            (["--log-dir", "/tmp/x", "--log-backups", "-1"], "--log-backups must be between 0 and 1000 (got -1)"),
            (
                ["--listen", "8080", "--", "x"],
                "--listen 8080: use [NAME=]HOST:PORT (port 1 to 65535) or [NAME=]unix:PATH, e.g. 127.0.0.1:8000, "
                    + "[::1]:8000, http=0.0.0.0:8080, unix:/run/app.sock"
            ),
            (
                ["--listen", "a:b=1.2.3.4:80", "--", "x"],
                "--listen a:b=1.2.3.4:80: 'a:b=1.2.3.4' is not an IP address; use e.g. 127.0.0.1:80 or [::1]:80"
            ),
            (
                ["--listen", "we b=127.0.0.1:80", "--", "x"],
                "--listen we b=127.0.0.1:80: a name has letters, digits, '_', '.' or '-' (e.g. http=127.0.0.1:8000)"
            ),
            (["--listen", "unix:", "--", "x"], "--listen unix:: a unix socket path has 1 to 107 bytes"),
            (
                ["--listen", "http=127.0.0.1:8000", "--listen", "http=127.0.0.1:8001", "--", "x"],
                "--listen: the name 'http' is given twice; each socket needs a name of its own (LISTEN_FDNAMES)"
            ),
            (["--listen", "127.0.0.1:80"], "--listen hands sockets to a command's workers: give the command after --"),
            (["-w", "2", "ls"], "ls is a command of its own: put it first (corral ls …)"),
            (["--no-tui", "ctl", "status"], "ctl is a command of its own: put it first (corral ctl …)"),
        ])
    func invalid(arguments: [String], message: String) {
        do {
            _ = try settings(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(CorralCommand.message(for: error) == message)
            #expect(CorralCommand.exitCode(for: error).rawValue == 64)
        }
    }

    @Test("restart options: defaults as documented, and each one set")
    func restartOptions() throws {
        let defaults = try settings(["--", "true"])
        #expect(defaults.restartPolicy == .no)
        #expect(defaults.restartBackoff == RestartBackoff())
        #expect(
            RestartBackoff()
                == RestartBackoff(
                    delay: .milliseconds(100), maxDelay: .seconds(30), reset: .seconds(10), maxRestarts: 5,
                    window: .seconds(60)))
        let set = try settings([
            "--restart", "on-failure", "--restart-delay", "0.5", "--restart-max-delay", "8", "--restart-reset", "3",
            "--max-restarts", "2", "--restart-window", "20", "--", "true",
        ])
        #expect(set.restartPolicy == .onFailure)
        #expect(
            set.restartBackoff
                == RestartBackoff(
                    delay: .milliseconds(500), maxDelay: .seconds(8), reset: .seconds(3), maxRestarts: 2,
                    window: .seconds(20)))
        #expect(
            try settings(["--restart", "always", "--", "true"]).configuration(demoTicker: nil).restartPolicy == .always)
    }

    @Test("--listen: names, TCP, IPv6 and unix addresses, in the order given")
    func listen() throws {
        let parsed = try settings([
            "--listen", "127.0.0.1:8000", "--listen", "api=[::1]:9000", "--listen", "unix:/run/a.sock",
            "--listen", "localhost:80", "--", "true",
        ])
        #expect(
            parsed.listens == [
                ListenSpec(name: "listen0", address: .tcp(host: "127.0.0.1", port: 8000)),
                ListenSpec(name: "api", address: .tcp(host: "::1", port: 9000)),
                ListenSpec(name: "listen2", address: .unix(path: "/run/a.sock")),
                ListenSpec(name: "listen3", address: .tcp(host: "localhost", port: 80)),
            ])
        #expect(parsed.listens[1].shown == "[::1]:9000")
    }

    @Test("nothing after -- is refused; a command after it is fine")
    func terminator() {
        #expect(throws: ValidationError.self) { try CorralCommand.checkTerminator(["-w", "2", "--"]) }
        #expect(throws: Never.self) { try CorralCommand.checkTerminator(["--", "true"]) }
        #expect(throws: Never.self) { try CorralCommand.checkTerminator([]) }
    }

    @Test("a non-number worker count is a parse error")
    func notANumber() {
        #expect(throws: (any Error).self) { _ = try CorralCommand.parse(["-w", "many"]) }
    }

    @Test("engine errors map to the documented exit statuses")
    func exitStatuses() {
        let missing = SpawnError(executable: "x", stage: .lookup, errno: .noSuchFileOrDirectory, slot: 0)
        #expect(ConsoleRun.status(for: .spawnFailed(missing)) == 64)
        let limit = SpawnError(executable: "x", stage: .fork, errno: .resourceTemporarilyUnavailable, slot: 3)
        #expect(ConsoleRun.status(for: .spawnFailed(limit)) == 1)
        #expect(ConsoleRun.status(for: .invalidConfiguration(ConfigurationError(field: "f", problem: "p"))) == 64)
        #expect(ConsoleRun.status(for: .alreadyRunning) == 71)
    }
}
