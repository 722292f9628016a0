import CorralTestSupport
import Foundation
import Testing

/// Signals corral itself receives: it never dies of one it can catch.
@Suite("corral and the signals it receives", .processExclusive)
struct SignalsEndToEndTests {
    /// Workers that record the signal that stopped them in `directory`, then exit 0; they print
    /// `trapped` once their traps are set.
    static func recorders(in directory: String) -> [String] {
        let record = { (name: String) in
            "trap 'echo \(name) > \(directory)/w$CORRAL_PROCESS_INDEX; exit 0' \(name)"
        }
        return ["sh", "-c", "\(record("INT")); \(record("TERM")); echo trapped; while :; do sleep 0.05; done"]
    }

    /// corral headless with recording workers; waits until both have set their traps.
    static func start(_ options: [String], directory: String) throws -> RunningProgram {
        let corral = try RunningProgram(
            corralExecutable, options + ["-w", "2", "--"] + recorders(in: directory))
        let trapped = eventually(within: .seconds(10)) {
            corral.stdout.components(separatedBy: "trapped").count - 1 == 2
        }
        #expect(trapped, "workers did not start: \(corral.stdout)")
        return corral
    }

    func recorded(_ directory: String) -> [String?] {
        (0..<2).map {
            (try? String(contentsOfFile: "\(directory)/w\($0)", encoding: .utf8))?.trimmingCharacters(in: .newlines)
        }
    }

    @Test(
        "a terminating signal that is not a stop signal stops gracefully with the first stop signal",
        arguments: [
            (["--no-tui"], SIGUSR1, "TERM"),
            (["--no-tui", "--stop-signals", "INT"], SIGTERM, "INT"),
            (["--json", "--stop-signals", "TERM"], SIGINT, "TERM"),
            (["--no-tui"], SIGQUIT, "TERM"),
        ])
    func terminatingSignal(options: [String], signal: Int32, expected: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-signals-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corral = try Self.start(options, directory: directory)
        kill(corral.pid, signal)
        #expect(corral.wait() == 0, "stderr: \(corral.stderr)")
        #expect(recorded(directory) == [expected, expected], "the workers were not stopped with SIG\(expected)")
        #expect(corral.stdout.contains("stopped"))
    }

    /// The pid of the corral whose worker command line holds `marker`.
    static func corralPid(marker: String) throws -> pid_t {
        try #require(
            processes(withArgument: marker).first { pid in
                let arguments = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")?.split(separator: 0)
                return arguments?.first.map { String(decoding: $0, as: UTF8.self) } == corralExecutable
            }, "corral not found")
    }

    @Test("kill -HUP to a corral that has a controlling terminal reloads, as gunicorn and nginx do")
    func hangupSignalReloads() throws {
        let marker = "hup-reload-\(UUID().uuidString)"
        let run = try DashboardEndToEndTests.CorralInTmux(
            width: 160, height: 50,
            arguments: "--no-tui --no-control -w 2 --ready-after 0 -- sh -c 'echo \(marker); exec sleep 1000'")
        #expect(eventually(within: .seconds(10)) { run.session.screen().contains("corral running") })
        kill(try Self.corralPid(marker: "echo \(marker); exec sleep 1000"), SIGHUP)
        #expect(
            eventually(within: .seconds(10)) { run.session.screen().contains("reload done: 2 workers replaced") },
            "\(run.session.screen())")
        #expect(!run.session.screen().contains("corral stopping"))
        run.session.press("q", "Enter")
        #expect(run.exitStatus() == "0", "\(run.session.screen())")
    }

    @Test("the terminal closing (its hangup) stops corral gracefully, it does not reload")
    func terminalClosedStops() throws {
        let marker = "hup-close-\(UUID().uuidString)"
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("corral-hangup-\(UUID())").path
        defer { unlink(output) }
        let session = try DashboardEndToEndTests.TmuxSession(
            width: 120, height: 40,
            command:
                "\(corralExecutable) --no-tui --no-control -w 2 --ready-after 0 -- sh -c 'echo \(marker); exec sleep 1000' > \(output) 2>&1"
        )
        func log() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        #expect(eventually(within: .seconds(10)) { log().contains("corral running") }, "\(log())")
        let corral = try Self.corralPid(marker: "echo \(marker); exec sleep 1000")
        try session.tmux(["kill-server"])
        #expect(eventually(within: .seconds(10)) { hasEnded(corral) }, "corral outlived its terminal")
        #expect(log().contains("corral stopped: SIGHUP received; exit status 0"), "\(log())")
        #expect(!log().contains("reload"))
    }

    @Test("a repeated stop signal is acknowledged once per repeat (stop_repeated), never forwarded twice")
    func repeatedStopSignal() throws {
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--wait-timeout", "2", "--", "sh", "-c",
                "trap '' TERM; echo trapped; while :; do sleep 0.05; done",
            ])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("trapped") })
        kill(corral.pid, SIGTERM)
        #expect(eventually(within: .seconds(5)) { corral.stdout.contains("\"event\":\"stopping\"") })
        kill(corral.pid, SIGTERM)
        kill(corral.pid, SIGINT)
        #expect(corral.wait() == 2)
        let events = corral.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let repeated = events.filter { $0["event"] as? String == "stop_repeated" }
        #expect(repeated.count == 2)
        #expect(repeated.allSatisfy { ($0["deadline_s"] as? Double).map { $0 > 0 && $0 <= 2 } == true })
        #expect(events.filter { $0["event"] as? String == "stopping" }.count == 1)
        let terms = events.filter { $0["event"] as? String == "signal" && $0["signal"] as? String == "SIGTERM" }
        #expect(terms.count == 1)
    }

    @Test("Ctrl-Z (SIGTSTP) does not suspend corral: it says so and keeps supervising")
    func suspendRefused() throws {
        let corral = try RunningProgram(corralExecutable, ["--json", "--", "sleep", "100"])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("\"state\":\"running\"") })
        kill(corral.pid, SIGTSTP)
        #expect(eventually(within: .seconds(5)) { corral.stdout.contains("\"event\":\"signal_ignored\"") })
        let state = (try? String(contentsOfFile: "/proc/\(corral.pid)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first
        #expect(state != "T", "corral was suspended")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
    }

    @Test("headless on a terminal: q and Enter stops, k and Enter while stopping force-kills")
    func headlessKeys() throws {
        let corral = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40,
            arguments: "--no-tui --wait-timeout 30 -- sh -c \"trap '' INT TERM; while :; do sleep 0.1; done\"")
        #expect(eventually(within: .seconds(10)) { corral.session.screen().contains("corral running") })
        corral.session.press("q", "Enter")
        #expect(eventually(within: .seconds(5)) { corral.session.screen().contains("corral stopping") })
        corral.session.press("k", "Enter")
        #expect(corral.exitStatus(within: .seconds(10)) == "2")
        #expect(corral.session.screen().contains("SIGKILL sent (by command)"))
        #expect(corral.session.screen().contains("SIGINT sent (by command)"), "q sends the first stop signal")
    }
}

/// Standard descriptors corral may be started without.
@Suite("corral started with standard descriptors closed", .processExclusive)
struct ClosedDescriptorsEndToEndTests {
    @Test("0, 1 and 2 closed: corral's own descriptors do not take their place (a child's byte 0x0F is output)")
    func closedStandardDescriptors() throws {
        // Before /dev/null took their place, the signal pipe landed on 0 and 1: the worker's
        // byte 15 was read back as SIGTERM and stopped the server with status 0.
        let script = "\(corralExecutable) --no-tui -- sh -c 'printf \"\\017\\n\"; sleep 0.3; exit 0' <&- >&- 2>&-"
        let result = try runProgram("/bin/sh", ["-c", script + "; echo $? > /dev/stderr"])
        #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(result.stderr)")
    }
}
