import CorralTestSupport
import Foundation
import Testing

/// Operations meant to keep a server up, when the world is not ideal: none of them may take the
/// serving processes down.
@Suite("corral operations under faults", .processExclusive)
struct FaultEndToEndTests {
    func running(_ corral: RunningProgram) -> Bool {
        eventually(within: .seconds(15)) {
            jsonEvents(corral).contains { $0["event"] as? String == "server" && $0["state"] as? String == "running" }
        }
    }

    @Test("the program removed between start and reload: the reload rolls back, the old processes serve on")
    func programRemovedBeforeReload() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-gone-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let program = directory + "/server"
        try "#!/bin/sh\nexec sleep 1000\n".write(toFile: program, atomically: true, encoding: .utf8)
        chmod(program, 0o755)
        let corral = try RunningProgram(
            corralExecutable, ["--json", "--no-control", "-w", "2", "--ready-after", "0", "--", program])
        #expect(running(corral), "\(corral.stdout)")
        let old = jsonEvents(corral).filter { $0["event"] as? String == "spawned" }.compactMap { $0["pid"] as? Int }
        unlink(program)
        kill(corral.pid, SIGHUP)
        let rolledBack = eventually(within: .seconds(10)) {
            jsonEvents(corral).contains {
                $0["event"] as? String == "reload" && $0["phase"] as? String == "rolled_back"
            }
        }
        #expect(rolledBack, "\(corral.stdout)")
        let reload = try #require(jsonEvents(corral).first { $0["phase"] as? String == "rolled_back" })
        #expect((reload["reason"] as? String)?.contains("No such file or directory") == true, "\(reload)")
        usleep(200_000)
        #expect(old.count == 2 && old.allSatisfy { !hasEnded(pid_t($0)) }, "an old, serving process was stopped")
        #expect(!jsonEvents(corral).contains { $0["event"] as? String == "stopping" }, "corral stopped")
        #expect(!jsonEvents(corral).contains { $0["event"] as? String == "signal" }, "a signal was sent")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("a restart whose program was removed backs off and retries, then gives up: exit status 1, never 64")
    func restartSpawnFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-gone-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let program = directory + "/server"
        try "#!/bin/sh\nexec sleep 1000\n".write(toFile: program, atomically: true, encoding: .utf8)
        chmod(program, 0o755)
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--no-control", "-w", "2", "--ready-after", "0", "--restart", "always", "--restart-delay",
                "0.05", "--max-restarts", "2", "--", program,
            ])
        #expect(running(corral), "\(corral.stdout)")
        let pids = jsonEvents(corral).filter { $0["event"] as? String == "spawned" }.compactMap { $0["pid"] as? Int }
        unlink(program)
        kill(pid_t(pids[0]), SIGKILL)
        #expect(corral.wait() == 1, "\(corral.stdout)")
        let failures = jsonEvents(corral).filter { $0["event"] as? String == "failed" }
        #expect(failures.contains { $0["failure_kind"] as? String == "spawn_failed" }, "\(failures)")
        #expect(failures.contains { $0["failure_kind"] as? String == "gave_up" }, "\(failures)")
        #expect(jsonEvents(corral).filter { $0["event"] as? String == "restart" }.count >= 2, "it retried")
    }

    @Test("the old process SIGKILLed mid-reload: a crash, the reload completes, a second reload is accepted")
    func oldKilledMidReload() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        // Ready 1.5 s after it starts: time to kill the old one while the new one is not ready.
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--control", directory.socket, "--ready", "log:ready", "--", "sh", "-c",
                "sleep 1.5; echo ready; exec sleep 1000",
            ])
        #expect(running(corral), "\(corral.stdout)")
        let old = try #require(
            jsonEvents(corral).first { $0["event"] as? String == "spawned" }.flatMap { $0["pid"] as? Int })
        #expect(try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "reload"]).status == 0)
        #expect(
            eventually(within: .seconds(5)) {
                jsonEvents(corral).contains { $0["event"] as? String == "spawned" && $0["generation"] as? Int == 1 }
            })
        kill(pid_t(old), SIGKILL)
        let done = eventually(within: .seconds(10)) {
            jsonEvents(corral).contains { $0["event"] as? String == "reload" && $0["phase"] as? String == "done" }
        }
        #expect(done, "\(corral.stdout)")
        let end = try #require(
            jsonEvents(corral).first { $0["event"] as? String == "exited" && $0["pid"] as? Int == old })
        #expect(end["failure_kind"] as? String == "exited_unexpectedly", "\(end)")
        // Its successor takes the slot once ready; then another reload is accepted.
        #expect(
            eventually(within: .seconds(10)) {
                jsonEvents(corral).contains {
                    $0["event"] as? String == "state" && $0["generation"] as? Int == 1
                        && $0["state"] as? String == "running"
                }
            }, "\(corral.stdout)")
        let again = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "reload"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(!jsonEvents(corral).contains { $0["event"] as? String == "stopping" }, "corral stopped")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("ctl signal HUP to every process: dying of it is intended, not a failure (exit status 0)")
    func signalToEveryProcess() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            corralExecutable,
            ["--json", "--control", directory.socket, "-w", "2", "--ready-after", "0", "--", "sleep", "1000"])
        #expect(running(corral), "\(corral.stdout)")
        let sent = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "signal", "HUP"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(corral.wait() == 0, "\(corral.stdout)")
        let exits = jsonEvents(corral).filter { $0["event"] as? String == "exited" }
        #expect(exits.count == 2)
        #expect(exits.allSatisfy { $0["stopped_by_operator"] as? Bool == true && $0["failure"] is NSNull }, "\(exits)")
    }

    @Test("ctl restart of a retired slot is refused with the reason; a reload before any worker runs too")
    func refusals() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            corralExecutable,
            ["--json", "--control", directory.socket, "-w", "2", "--ready-after", "0", "--", "sleep", "1000"])
        #expect(running(corral), "\(corral.stdout)")
        #expect(try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "scale", "1"]).status == 0)
        #expect(
            eventually(within: .seconds(5)) {
                jsonEvents(corral).contains { $0["event"] as? String == "exited" && $0["index"] as? Int == 1 }
            })
        let restart = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "restart", "1"])
        #expect(restart.status == 1)
        #expect(restart.stderr.contains("worker.1 was retired by scaling down"), "\(restart.stderr)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")

        let starting = try RunningProgram(
            corralExecutable,
            ["--json", "--control", directory.socket, "--ready", "log:never", "--", "sleep", "1000"])
        #expect(eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: directory.socket) })
        let reload = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "reload"])
        #expect(reload.status == 1)
        #expect(reload.stderr.contains("no worker is running yet"), "\(reload.stderr)")
        kill(starting.pid, SIGTERM)
        #expect(starting.wait() == 0, "\(starting.stderr)")
    }

    @Test("a program that cannot be executed: the stopped event's exit status is the one corral exits with")
    func exitStatusMatches() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("corral-shebang-\(UUID())").path
        try "#!/nonexistent/interpreter\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        defer { unlink(script) }
        let result = try runProgram(corralExecutable, ["--json", "--no-control", "--", script])
        let stopped = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.first { $0["event"] as? String == "stopped" }
        #expect(result.status == 64)
        #expect(stopped?["exit_status"] as? Int == 64, "\(result.stdout)")
    }

    @Test("a control request's id may be any JSON scalar; it is echoed as given")
    func numericID() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            corralExecutable, ["--json", "--control", directory.socket, "--ready-after", "0", "--", "sleep", "1000"])
        #expect(running(corral), "\(corral.stdout)")
        let client = try ControlAbuseTests.RawClient(directory.socket)
        client.send(Array(#"{"command":"unsubscribe","id":7}"#.utf8) + [10])
        client.send(Array(#"{"command":"stop","id":"last"}"#.utf8) + [10])
        let text = client.readToEnd().text
        #expect(text.contains(#""id":7,"#), "\(text)")
        #expect(text.contains(#""id":"last""#), "\(text)")
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("a SIGSTOPped worker at stop time gets SIGCONT after its stop signal, so it ends on time")
    func stoppedWorkerStops() throws {
        let corral = try RunningProgram(
            corralExecutable, ["--json", "--no-control", "--ready-after", "0", "--", "sleep", "1000"])
        #expect(running(corral), "\(corral.stdout)")
        let pid = try #require(
            jsonEvents(corral).first { $0["event"] as? String == "spawned" }.flatMap { $0["pid"] as? Int })
        kill(pid_t(pid), SIGSTOP)
        usleep(100_000)
        let started = ContinuousClock.now
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stdout)")
        #expect(started.duration(to: .now) < .seconds(5), "waited for the SIGKILL deadline")
    }
}

/// Scaling past the open-file limit.
@Suite("corral scaled past its descriptor limit", .processExclusive)
struct ScaleLimitEndToEndTests {
    @Test("ctl scale past RLIMIT_NOFILE: the workers that run keep running, the others are refused, exit 0 later")
    func scalePastLimit() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            "/bin/sh",
            [
                "-c",
                "ulimit -n 48; exec \(corralExecutable) --json --control \(directory.socket) -w 2 --ready-after 0 -- sleep 1000",
            ])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("\"state\":\"running\"") })
        let scale = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "scale", "30"])
        #expect(scale.status == 0, "\(scale.stderr)")
        #expect(scale.stdout.contains("RLIMIT_NOFILE (48) allows about"), "the reply says the limit: \(scale.stdout)")
        #expect(
            eventually(within: .seconds(10)) {
                corral.stdout.contains("\"refused\"") && corral.stdout.contains("Too many open files")
            },
            "\(corral.stdout)")
        let status = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "status", "--json"])
        #expect(status.status == 0)
        #expect(!corral.stdout.contains("\"event\":\"stopping\""), "the server stopped")
        let first = spawnedJSONPids(corral.stdout).prefix(2)
        #expect(first.count == 2 && first.allSatisfy { !hasEnded($0) })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("the soft open-file limit is raised to the hard one for corral; its children get the original")
    func openFilesRaised() throws {
        let corral = try RunningProgram(
            "/bin/sh",
            [
                "-c",
                "ulimit -Sn 64; ulimit -Hn 4096; exec \(corralExecutable) --no-tui --no-control --ready-after 0 -- "
                    + "sh -c 'echo limit=$(ulimit -n); sleep 1000'",
            ])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("limit=") }, "\(corral.stdout)")
        #expect(corral.stdout.contains("limit=64"), "\(corral.stdout)")
        let limits = (try? String(contentsOfFile: "/proc/\(corral.pid)/limits", encoding: .utf8)) ?? ""
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first == "4096", "\(line)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
    }

    func spawnedJSONPids(_ log: String) -> [pid_t] {
        log.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["event"] as? String == "spawned", let pid = object["pid"] as? Int
            else { return nil }
            return pid_t(pid)
        }
    }
}

/// Headless output that cannot be written.
@Suite("corral writing to a full disk", .processExclusive)
struct FullDiskEndToEndTests {
    @Test("--no-tui > /dev/full: said once on stderr, lines counted, supervision goes on until a stop")
    func fullDisk() throws {
        let corral = try RunningProgram(
            "/bin/sh",
            [
                "-c",
                "exec \(corralExecutable) --no-tui --no-control --ready-after 0 -- sh -c 'while :; do echo hi; sleep 0.1; done' > /dev/full",
            ])
        usleep(1_500_000)
        #expect(!hasEnded(corral.pid), "corral stopped: \(corral.stderr)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let said = corral.stderr.components(separatedBy: "cannot write its output (No space left on device").count - 1
        #expect(said == 1, "\(corral.stderr)")
        #expect(corral.stderr.contains("lines dropped: its output could not be written"), "\(corral.stderr)")
    }
}

/// The control socket when descriptors run out.
@Suite("corral's control socket out of descriptors", .processExclusive)
struct AcceptLimitEndToEndTests {
    /// User + system CPU seconds of `pid`, from /proc.
    func cpuSeconds(_ pid: pid_t) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("clients past RLIMIT_NOFILE wait: corral does not spin on its listener, and answers again later")
    func acceptUnderLimit() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            "/bin/sh",
            [
                "-c",
                "ulimit -n 40; exec \(corralExecutable) --no-tui --control \(directory.socket) --ready-after 0 -- sleep 1000",
            ])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") })
        var clients: [ControlAbuseTests.RawClient] = []
        for _ in 0..<60 { clients.append(try ControlAbuseTests.RawClient(directory.socket)) }
        usleep(300_000)
        let before = cpuSeconds(corral.pid)
        usleep(2_000_000)
        let spent = cpuSeconds(corral.pid) - before
        #expect(spent >= 0 && spent < 0.1, "corral spent \(spent) s of CPU in 2 s")
        #expect(corral.stderr.contains("the control socket cannot accept a client now"), "\(corral.stderr)")
        clients.removeAll()
        let status = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "status"])
        #expect(status.status == 0, "\(status.stderr)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }
}

/// Where `ls` and a bare `ctl` look.
@Suite("corral ls across sessions", .processExclusive)
struct LocatorFallbackEndToEndTests {
    @Test("with XDG_RUNTIME_DIR set, /tmp/corral-<uid>/ is looked in only when none answers there, and said")
    func fallbackIsSaid() throws {
        let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("corral-xdg-\(UUID())").path
        try FileManager.default.createDirectory(
            atPath: runtime, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        let corral = try RunningProgram(
            "/usr/bin/env", ["-u", "XDG_RUNTIME_DIR", corralExecutable, "--no-tui", "--", "sleep", "1000"])
        defer {
            kill(corral.pid, SIGTERM)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") })
        let listed = try runProgram("/usr/bin/env", ["XDG_RUNTIME_DIR=\(runtime)", corralExecutable, "ls"])
        #expect(listed.stdout.contains("/tmp/corral-\(getuid())/\(corral.pid).sock"), "\(listed.stdout)")
        #expect(listed.stderr.contains("none answers in \(runtime)/corral; found in /tmp/corral-\(getuid())"))
        // A corral of this session, in the runtime directory, is what a bare ctl finds.
        let own = try RunningProgram(
            "/usr/bin/env", ["XDG_RUNTIME_DIR=\(runtime)", corralExecutable, "--no-tui", "--", "sleep", "1000"])
        defer {
            kill(own.pid, SIGTERM)
            own.wait()
        }
        #expect(eventually(within: .seconds(10)) { own.stdout.contains("corral running") })
        let status = try runProgram("/usr/bin/env", ["XDG_RUNTIME_DIR=\(runtime)", corralExecutable, "ctl", "status"])
        #expect(status.stdout.contains("corral pid \(own.pid)"), "\(status.stdout)\(status.stderr)")
        #expect(!status.stderr.contains("none answers"))
    }
}

/// `--listen unix:PATH` over a socket a killed corral left.
@Suite("corral --listen over a stale Unix socket", .processExclusive)
struct StaleListenEndToEndTests {
    @Test("a socket nothing listens on is replaced; a live one, or another file, is refused (64)")
    func staleReplaced() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corral-l-\(getpid()).sock").path
        unlink(path)
        defer { unlink(path) }
        close(bindUnix(path, listening: false))
        let corral = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--no-control", "--ready-after", "0", "--listen", "unix:\(path)", "--", "sleep", "100"])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") }, "\(corral.stderr)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "the socket corral created is removed at the end")

        let live = bindUnix(path, listening: true)
        defer { close(live) }
        let refused = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "--listen", "unix:\(path)", "--", "true"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("is not a stale socket"), "\(refused.stderr)")
        #expect(FileManager.default.fileExists(atPath: path), "a live socket is never taken over")
    }
}

/// The watchdog killed while corral runs.
@Suite("corral's watchdog killed", .processExclusive)
struct WatchdogEndToEndTests {
    @Test(
        "the watchdog and the workers run on corral's processors (its launcher thread is pinned to another one); the watchdog does not preempt spawns"
    )
    func processorsRestored() throws {
        let corral = try RunningProgram(
            corralExecutable, ["--no-tui", "--no-control", "-w", "2", "--ready-after", "0", "--", "sleep", "1000"])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") }, "\(corral.stdout)")
        func processors(_ pid: pid_t) -> String {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            return status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }.map(String.init) ?? "?"
        }
        let children = childrenOf(corral.pid)
        let watchdog = children.filter {
            (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) == "corral-watchdog\n"
        }
        #expect(watchdog.count == 1 && children.count == 3, "\(children)")
        // SCHED_BATCH (3 in <linux/sched.h>; Glibc's module leaves it out): its reads of the
        // children's registrations wait for a free processor.
        #expect(watchdog.map { sched_getscheduler($0) } == [3])
        for child in children { #expect(processors(child) == processors(corral.pid), "pid \(child)") }
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
    }

    @Test("the watchdog killed: reported and replaced; restarts still start; SIGKILL of corral leaves no grandchild")
    func watchdogReplaced() throws {
        let marker = "corral-wd-\(UUID().uuidString)"
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--no-control", "--ready-after", "0", "--restart", "always", "--", "sh", "-c",
                "sleep 1000 & echo \(marker); wait",
            ])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains(marker) }, "\(corral.stdout)")
        func helpers() -> [pid_t] {
            childrenOf(corral.pid).filter {
                (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("corral") == true
            }
        }
        let watchdog = try #require(helpers().first, "no watchdog")
        kill(watchdog, SIGKILL)
        let replaced = eventually(within: .seconds(5)) {
            jsonEvents(corral).contains { $0["event"] as? String == "watchdog" && $0["pid"] as? Int == Int(watchdog) }
        }
        #expect(replaced, "\(corral.stdout)")
        let fresh = try #require(
            jsonEvents(corral).first { $0["event"] as? String == "watchdog" }?["replaced_by"] as? Int)
        #expect(!hasEnded(pid_t(fresh)))
        // A restart after the watchdog's death starts (it used to die of SIGPIPE at once).
        let worker = try #require(
            jsonEvents(corral).first { $0["event"] as? String == "spawned" }.flatMap { $0["pid"] as? Int })
        let grandchildren = childrenOf(pid_t(worker))
        #expect(!grandchildren.isEmpty)
        kill(pid_t(worker), SIGKILL)
        #expect(
            eventually(within: .seconds(5)) {
                jsonEvents(corral).contains {
                    $0["event"] as? String == "state" && $0["generation"] as? Int == 1
                        && $0["state"] as? String == "running"
                }
            }, "\(corral.stdout)")
        let restarted = try #require(
            jsonEvents(corral).last { $0["event"] as? String == "spawned" }.flatMap { $0["pid"] as? Int })
        #expect(eventually(within: .seconds(5)) { !childrenOf(pid_t(restarted)).isEmpty })
        let newGrandchildren = childrenOf(pid_t(restarted))
        kill(corral.pid, SIGKILL)
        corral.wait()
        #expect(
            eventually(within: .seconds(3)) { (grandchildren + newGrandchildren).allSatisfy(hasEnded) },
            "a grandchild outlived corral: \(grandchildren + newGrandchildren)")
    }

    /// Runs `arguments` (their output to /dev/null) under a subreaper (a `python3`), which prints
    /// the exit status and how many orphans it adopted in the second after: processes the
    /// command left behind.
    func runAdoptingOrphans(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let script = """
            import ctypes, os, subprocess, sys, time
            ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
            out = subprocess.DEVNULL
            status = subprocess.Popen(sys.argv[1:], stdout=out, stderr=out).wait()
            adopted, deadline = [], time.monotonic() + 1
            while time.monotonic() < deadline:
                try:
                    orphan, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if orphan:
                    adopted.append(orphan)
                else:
                    time.sleep(0.02)
            print(status, len(adopted))
            """
        return try runProgram("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    @Test(
        "the watchdog started while the arguments are parsed is reaped by corral, whether the run starts or not",
        arguments: [
            (["--bogus"], 64), (["-w", "0", "--", "true"], 64), (["--no-tui", "--", "/nonexistent/program"], 64),
            (["--no-tui", "--no-control", "--", "sh", "-c", "kill -TERM $PPID; exec sleep 5"], 0),
            (["--no-tui", "--no-control", "--", "sh", "-c", "exit 3"], 1),
        ])
    func earlyWatchdogReaped(arguments: [String], status: Int) throws {
        let result = try runAdoptingOrphans([corralExecutable] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(status) 0\n", "exit status, orphans adopted: \(result.stdout)")
    }

    @Test("the subreaper of the check above sees what a command leaves behind")
    func orphanSeen() throws {
        let result = try runAdoptingOrphans(["/bin/sh", "-c", "sleep 0.1 & exit 0"])
        #expect(result.stdout == "0 1\n", "\(result.stdout) \(result.stderr)")
    }
}

/// The notify socket's private directory after a SIGKILL.
@Suite("corral's notify directory after a SIGKILL", .processExclusive)
struct NotifyDirectoryEndToEndTests {
    func notifyDirectories() -> Set<String> {
        Set(
            ["/dev/shm", "/tmp"].flatMap { base in
                ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter {
                    $0.hasPrefix("corral-notify-")
                }.map { base + "/" + $0 }
            })
    }

    @Test("SIGKILL of corral: its watchdog removes the notify directory; ls removes ones left without a watchdog")
    func removedAfterKill() throws {
        // The worker says where its notify socket is: this corral's directory, whatever other
        // corrals on the machine (another test run) make meanwhile.
        let corral = try RunningProgram(
            "/usr/bin/env",
            [
                "-u", "XDG_RUNTIME_DIR", corralExecutable, "--no-tui", "--no-control", "--",
                "sh", "-c", #"echo "notify at $NOTIFY_SOCKET"; exec sleep 1000"#,
            ])
        #expect(eventually(within: .seconds(10)) { corral.stdout.contains("corral running") })
        let socket = corral.stdout.split(separator: "\n").compactMap { line in
            line.range(of: "notify at ").map { String(line[$0.upperBound...]) }
        }.first
        let directory = socket.map { String($0.dropLast("/notify".count)) } ?? "(no notify socket said)"
        #expect(socket?.hasSuffix("/notify") == true, "\(corral.stdout)")
        #expect(notifyDirectories().contains(directory), "\(directory) is not a corral-notify- directory")
        kill(corral.pid, SIGKILL)
        corral.wait()
        #expect(
            eventually(within: .seconds(3)) { !FileManager.default.fileExists(atPath: directory) }, "left: \(directory)"
        )

        // One left by a corral that had no watchdog to remove it: a directory whose socket is dead.
        let stale = "/tmp/corral-notify-test\(getpid())"
        mkdir(stale, 0o700)
        close(bindUnix(stale + "/notify", type: SOCK_DGRAM))
        defer {
            unlink(stale + "/notify")
            rmdir(stale)
        }
        #expect(try runProgram("/usr/bin/env", ["-u", "XDG_RUNTIME_DIR", corralExecutable, "ls"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale), "ls removes a stale notify directory")
    }
}
