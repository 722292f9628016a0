import CorralTestSupport
import Foundation
import Testing

/// The real `corral` binary headless: JSON lines, exit statuses, bad input.
@Suite("corral headless", .processExclusive)
struct HeadlessEndToEndTests {
    @Test("--json: command workers stopped by SIGTERM; every event parses and tells the story")
    func json() throws {
        let corral = try RunningProgram(
            corralExecutable,
            ["--json", "-w", "3", "--", "sh", "-c", "echo hello $CORRAL_PROCESS_INDEX; exec sleep 100"])
        var lines: [String] { corral.stdout.split(separator: "\n").map(String.init) }
        let ready = eventually(within: .seconds(10)) {
            lines.contains { $0.contains("\"event\":\"server\"") && $0.contains("\"running\"") }
                && lines.filter { $0.contains("\"event\":\"output\"") }.count == 3
        }
        #expect(ready)
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let events = lines.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.count == lines.count, "a line is not a JSON object")
        #expect(events.allSatisfy { $0["time"] is String && $0["event"] is String })
        func all(_ name: String) -> [[String: Any]] { events.filter { $0["event"] as? String == name } }
        #expect(all("spawned").count == 3)
        #expect(Set(all("output").compactMap { $0["line"] as? String }) == ["hello 0", "hello 1", "hello 2"])
        #expect(all("stopping").first?["signal"] as? String == "SIGTERM")
        #expect(all("stopping").first?["deadline_s"] is Double)
        let signals = all("signal")
        #expect(signals.count == 3)
        #expect(signals.allSatisfy { $0["reason"] as? String == "forward" && $0["signal"] as? String == "SIGTERM" })
        let exits = all("exited")
        #expect(exits.count == 3)
        #expect(exits.allSatisfy { $0["signal"] as? String == "SIGTERM" && $0["sent_by_supervisor"] as? Bool == true })
        #expect(all("stopped").first?["exit_status"] as? Int == 0)
    }

    @Test("--no-tui: one line per event, children's lines prefixed; a failing worker gives status 1")
    func textLog() throws {
        let result = try runProgram(
            corralExecutable, ["--no-tui", "-w", "2", "--", "sh", "-c", "echo up; sleep 1.5; exit 7"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("worker.0 | up"))
        #expect(
            result.stdout.range(of: #"\d\d:\d\d:\d\d\.\d\d\d worker\.1 pid=\d+ running"#, options: .regularExpression)
                != nil)
        #expect(result.stdout.contains("exited with code 7"))
        #expect(result.stdout.contains("corral stopped"))
    }

    @Test(
        "bad input: a one-line error, usage status 64, nothing spawned",
        arguments: [
            ["-w", "0"], ["-w", "-1"], ["-w", "1000000000"], ["-w", "many"], ["--stop-signals", "FOO"],
            ["--stop-signals", "KILL"], ["--wait-timeout", "-1"], ["--wait-timeout", "nan"],
            ["--wait-timeout", "1e12"], ["--"], ["--", "no-such-program-corral"], ["--", "/etc/hostname"],
            ["--ready", "maybe", "--", "true"],
            ["--port", "0"],
        ])
    func badInput(arguments: [String]) throws {
        let result = try runProgram(corralExecutable, arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        let firstLine = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("Error:") || firstLine.hasPrefix("corral:"), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(arguments)")
    }

    @Test("RLIMIT_NOFILE too low for the workers: an error naming the limit, the started ones stopped")
    func openFileLimit() throws {
        let result = try runLimitedCorral("resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))")
        #expect(result.status == 1)
        #expect(result.stderr.contains("RLIMIT_NOFILE (24 here) is reached"), "\(result.stderr)")
        #expect(result.stdout.contains("corral stopped"))
        let pids = spawnedPids(result.stdout)
        #expect(!pids.isEmpty)
        #expect(pids.allSatisfy(hasEnded), "a worker outlived corral")
    }

    @Test("as PID 1 of a new PID namespace: orphans are reaped, SIGTERM from outside still stops gracefully")
    func pidOne() throws {
        // Each worker leaves an orphan that ends after 1 s: it is re-parented to corral (PID 1).
        let worker = "(sleep 1 &); exec sleep 1000"
        let unshare = try RunningProgram(
            "/usr/bin/unshare",
            [
                "--pid", "--fork", "--mount-proc", corralExecutable, "--no-tui", "-w", "2", "--ready-after", "0", "--",
                "sh", "-c", worker,
            ])
        let runningCorral = eventually(within: .seconds(10)) { unshare.stdout.contains("corral running") }
        #expect(runningCorral, "\(unshare.stdout)\n\(unshare.stderr)")
        let corral = try #require(childrenOf(unshare.pid).first)
        // Both orphans become corral's children; once they ended, they are reaped: no child of
        // corral is a zombie (a zombie has no command line, so it is not counted as an orphan).
        func orphans() -> [pid_t] {
            childrenOf(corral).filter { pid in
                let arguments = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")?.split(separator: 0)
                return arguments?.map { String(decoding: $0, as: UTF8.self) } == ["sleep", "1"]
            }
        }
        let adopted = eventually(within: .seconds(10)) { orphans().count == 2 }
        #expect(adopted, "the orphans were not re-parented to corral: \(childrenOf(corral))")
        let reaped = eventually(within: .seconds(10)) {
            orphans().isEmpty && childrenOf(corral).allSatisfy(isRunningState)
        }
        let zombies = childrenOf(corral).filter { !isRunningState($0) }
        #expect(reaped && zombies.isEmpty, "unreaped children of corral: \(zombies)")
        kill(corral, SIGTERM)
        #expect(unshare.wait() == 0, "\(unshare.stdout)\n\(unshare.stderr)")
        #expect(unshare.stdout.contains("corral stopped: SIGTERM received; exit status 0"))
    }

    @Test(
        "corral SIGKILLed while starting, running or stopping: within 1 s no process of its tree remains",
        arguments: ["starting", "running", "stopping"])
    func supervisorKilled(phase: String) throws {
        // Each command worker starts a grandchild and prints its pid, then ignores SIGTERM so a
        // stop lasts until the (long) wait timeout.
        // The grandchild's argument is unique to this run, so any that escaped can be found
        // even when its pid never reached corral's output.
        let marker = "1000.\(UInt32.random(in: 1...UInt32.max))"
        let worker = "trap '' TERM; sleep \(marker) & echo grandchild=$!; while :; do sleep 0.05; done"
        // No control socket: a SIGKILLed corral would leave it behind in the user's directory
        // (the next corral or `corral ls` removes such a stale socket; ControlEndToEndTests).
        let corral = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--no-control", "-w", "16", "--wait-timeout", "60", "--", "sh", "-c", worker])
        func lines() -> [String] { corral.stdout.split(separator: "\n").map(String.init) }
        switch phase {
        case "starting":
            #expect(eventually(within: .seconds(10)) { lines().contains { $0.hasSuffix(" spawned") } })
        case "running":
            #expect(eventually(within: .seconds(10)) { lines().filter { $0.contains("grandchild=") }.count == 16 })
        default:
            #expect(eventually(within: .seconds(10)) { lines().filter { $0.contains("grandchild=") }.count == 16 })
            kill(corral.pid, SIGTERM)
            #expect(eventually(within: .seconds(5)) { lines().contains { $0.contains("corral stopping") } })
        }
        kill(corral.pid, SIGKILL)
        // Its output went straight to a file: every line it wrote is there now.
        #expect(corral.wait() == 128 + SIGKILL)
        let grandchildren = lines().compactMap { line -> pid_t? in
            guard let range = line.range(of: #"grandchild=\d+"#, options: .regularExpression) else { return nil }
            return pid_t(line[range].dropFirst("grandchild=".count))
        }
        let pids = spawnedPids(corral.stdout) + grandchildren
        #expect(!pids.isEmpty)
        let gone = eventually(within: .seconds(1)) {
            pids.allSatisfy(hasEnded) && processes(withArgument: marker).isEmpty
        }
        let escaped = processes(withArgument: marker)
        #expect(gone, "\(phase): left behind \(pids.filter { !hasEnded($0) }), unlisted \(escaped)")
        for pid in pids + escaped where !hasEnded(pid) { kill(pid, SIGKILL) }
    }

    @Test("an output flood headless: every line intact, escalation on time")
    func floodLog() throws {
        let flood = "trap '' TERM; (yes 'a line of output' | head -c 20000000); while :; do sleep 0.1; done"
        let corral = try RunningProgram(
            corralExecutable, ["--no-tui", "-w", "2", "--wait-timeout", "1", "--", "sh", "-c", flood])
        let flooding = eventually(within: .seconds(10)) {
            let log = corral.stdout
            return log.contains("worker.0 | a line of output") && log.contains("worker.1 | a line of output")
        }
        #expect(flooding, "no output from both workers")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait(timeout: .seconds(20)) == 2)
        let text = "a line of output"
        var children = 0
        for line in corral.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            // Every line begins with the time of day, children's lines too.
            let time = line.range(of: #"^\d\d:\d\d:\d\d\.\d\d\d "#, options: .regularExpression)
            let body = time.map { line[$0.upperBound...] } ?? line[...]
            if body.hasPrefix("worker.0 | ") || body.hasPrefix("worker.1 | ") {
                children += 1
                #expect(time != nil, "a child's line without its time: \(line.prefix(80))")
                let content = body.dropFirst("worker.0 | ".count)
                #expect(text.hasPrefix(content) && !content.isEmpty, "a mangled line: \(line.prefix(80))")
            } else {
                #expect(
                    line.range(of: #"^\d\d:\d\d:\d\d\.\d\d\d "#, options: .regularExpression) != nil,
                    "a mangled line: \(line.prefix(80))")
            }
        }
        #expect(children > 100_000, "only \(children) lines relayed")
        #expect(corral.stdout.contains("SIGKILL sent after 1.0 s timeout"))
    }

    @Test(
        "RLIMIT_NPROC reached mid-spawn: an error naming the limit, the started ones stopped",
        .enabled(if: getuid() == 0, "the limit is not enforced for root, so the test runs corral as nobody"))
    func processLimit() throws {
        let result = try runLimitedCorral(
            "resource.setrlimit(resource.RLIMIT_NPROC, (12, 12)); os.setgroups([]); os.setgid(65534); os.setuid(65534)")
        #expect(result.status == 1)
        #expect(result.stderr.contains("the process limit RLIMIT_NPROC (12 here) is reached"), "\(result.stderr)")
        #expect(result.stdout.contains("corral stopped"))
        let pids = spawnedPids(result.stdout)
        #expect(!pids.isEmpty)
        #expect(pids.allSatisfy(hasEnded), "a worker outlived corral")
    }

    @Test("a port in use is refused with a clear message")
    func portInUse() throws {
        let (fd, port) = loopbackSocket(listening: true)
        defer { close(fd) }
        let result = try runProgram(corralExecutable, ["--no-tui", "--port", "\(port)"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("port \(port) on 127.0.0.1 is in use; choose another with --port"))
    }

    @Test("--help documents the options, keys, environment and exit statuses")
    func help() throws {
        let result = try runProgram(corralExecutable, ["--help"])
        #expect(result.status == 0)
        for text in [
            "--workers", "--stop-signals", "--wait-timeout", "--no-tui", "--json", "KEYS", "CORRAL_PROCESS_INDEX",
            "NOTIFY_SOCKET", "LISTEN_FDS", "EXIT STATUS",
        ] {
            #expect(result.stdout.contains(text), "help lacks \(text)")
        }
    }

    /// Runs `corral --no-tui -w 16 -- sleep 100` with only descriptors 0, 1, 2 open (a test
    /// runner may pass on more) after the Python statement `setup` (limits, a user).
    func runLimitedCorral(_ setup: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let launcher = """
            import os, resource, sys
            os.closerange(3, 65536)
            \(setup)
            os.execv(sys.argv[1], sys.argv[1:])
            """
        // corral runs as nobody, who may not enter the checkout: it runs a copy it can reach.
        let copy = OtherUser.corral
        return try runProgram(
            "/usr/bin/env", ["python3", "-c", launcher, copy, "--no-tui", "-w", "16", "--", "sleep", "100"])
    }

    @Test("children's lines begin with the time of day, as event lines do; --no-timestamps leaves it out")
    func timestamps() throws {
        let timed = try runProgram(corralExecutable, ["--no-tui", "--no-control", "--", "sh", "-c", "echo hello"])
        let line = try #require(timed.stdout.split(separator: "\n").first { $0.hasSuffix("worker.0 | hello") })
        #expect(line.range(of: #"^\d\d:\d\d:\d\d\.\d\d\d worker\.0 \| hello$"#, options: .regularExpression) != nil)
        let plain = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "--no-timestamps", "--", "sh", "-c", "echo hello"])
        #expect(plain.stdout.split(separator: "\n").contains("worker.0 | hello"), "\(plain.stdout)")
    }
}
