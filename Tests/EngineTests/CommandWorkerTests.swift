import Foundation
import Glibc
import SystemPackage
import Testing

@testable import CorralEngine

/// Command workers and whole-server runs on real processes.
extension RealProcesses {
    @Suite("Command workers and whole servers")
    struct CommandWorkerTests {
        /// The helper server's main process has bound its socket (its first line of output).
        static func mainIsListening(_ event: EngineEvent) -> Bool {
            if case .output(0, .stdout, let line) = event { return line.hasPrefix("main listening") }
            return false
        }

        /// A python3 program that sends READY=1 over NOTIFY_SOCKET after `delay` seconds, then waits
        /// for SIGTERM. If `fromGrandchild`, a child process of it sends the datagram instead.
        static func notifyScript(delay: Double, fromGrandchild: Bool = false) -> [String] {
            let send = """
                import os, socket, signal, sys, time
                def ready():
                    name = os.environ["NOTIFY_SOCKET"]
                    address = "\\0" + name[1:] if name.startswith("@") else name
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    s.sendto(b"STATUS=warming up", address)
                    time.sleep(\(delay))
                    s.sendto(b"READY=1", address)
                if \(fromGrandchild ? "True" : "False"):
                    if os.fork() == 0:
                        ready(); os._exit(0)
                    os.wait()
                else:
                    ready()
                signal.sigwait([signal.SIGTERM])
                """
            return ["python3", "-c", send]
        }

        @Test("a command worker is running only after it sends READY=1; one ready-on-exec runs at once")
        func notifyReadiness() throws {
            let hygiene = ProcessHygiene()
            let recorder = Recorder(steps: [.init(condition: .running(1)) { _ in [.stop] }])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(Self.notifyScript(delay: 0.4), readiness: .notify),
                waitTimeout: .seconds(5))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(recorder.stateHistory(0).prefix(2) == [.initializing, .running])
            // Running only after READY=1, which the worker sends after its STATUS= and a pause:
            // the status arrives while it is still initializing.
            let status = try #require(recorder.events.firstIndex(of: .status(slot: 0, text: "warming up")))
            let running = try #require(recorder.events.firstIndex(of: .stateChanged(slot: 0, .running)))
            #expect(status < running, "running before its READY=1")
            #expect(report.slots[0].end?.termination == .signaled(.terminate, coreDumped: false))
            #expect(report.exitStatus == 0)

            let onExec = Recorder(steps: [.init(condition: .running(2)) { _ in [.stop] }])
            let execReport = try Supervisor(
                SupervisorConfiguration(
                    workers: 2, worker: .command(["sleep", "1000"]), waitTimeout: .seconds(5), readyAfter: .zero)
            ).run(frontend: onExec)
            #expect(!onExec.timedOut)
            #expect(onExec.stateHistory(0) == [.running, .stopping, .exited])
            #expect(execReport.exitStatus == 0)
            hygiene.check()
        }

        @Test("spawned in parallel, each child's spawned event comes with an instant before it started")
        func spawnInstants() throws {
            let hygiene = ProcessHygiene()
            let recorder = Recorder(steps: [.init(condition: .running(6)) { _ in [.stop] }])
            // Each worker prints when it started (CLOCK_BOOTTIME, the continuous clock's), then
            // is ready 0.3 s later.
            let started = [
                "python3", "-c", "import time; print(time.clock_gettime_ns(time.CLOCK_BOOTTIME), flush=True)",
            ]
            let script = started[2] + "\n" + Self.notifyScript(delay: 0.3)[2]
            let configuration = SupervisorConfiguration(
                workers: 6, worker: .command(["python3", "-c", script], readiness: .notify), waitTimeout: .seconds(5))
            let reference = (instant: ContinuousClock.now, nanoseconds: Self.bootTimeNanoseconds())
            _ = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            for slot in 0..<6 {
                let spawned = try #require(
                    recorder.happened.first {
                        if case .spawned(slot, _, _, _) = $0.1 { return true } else { return false }
                    }?.0)
                let running = try #require(recorder.happened.first { $0.1 == .stateChanged(slot: slot, .running) }?.0)
                let line = try #require(
                    recorder.events.lazy.compactMap { event -> Int64? in
                        if case .output(slot, .stdout, let text) = event { return Int64(text) } else { return nil }
                    }.first)
                let ownStart = reference.instant + .nanoseconds(line - reference.nanoseconds)
                #expect(spawned <= ownStart, "slot \(slot): spawned at \(spawned), started at \(ownStart)")
                #expect(spawned.duration(to: running) >= .milliseconds(300), "slot \(slot)")
            }
            hygiene.check()
        }

        @Test("the watchdog killed and replaced: the pipe number children are handed stays the first watchdog's pipe")
        func endedWatchdogPipeStaysOpen() throws {
            let hygiene = ProcessHygiene()
            // The first watchdog's pipe, as the supervisor's descriptor number of it and the pipe.
            var first: (fd: String, pipe: String)?
            var afterReplacement: String?
            let recorder = Recorder(steps: [
                .init(condition: .running(1)) { _ in [] },
                // The watchdog starts beside the first child: give it a moment to be itself.
                .init(condition: .after(.milliseconds(300))) { _ in
                    guard let watchdog = Self.watchdogs().first,
                        let pipe = Self.link("/proc/\(watchdog)/fd/3"),
                        let fd = Self.descriptors().first(where: { Self.link("/proc/self/fd/\($0)") == pipe })
                    else { return [.stop] }
                    first = (fd, pipe)
                    kill(watchdog, SIGKILL)
                    return []
                },
                .init(condition: .event { if case .watchdogEnded = $0 { true } else { false } }) { _ in
                    afterReplacement = first.flatMap { Self.link("/proc/self/fd/\($0.fd)") }
                    return [.stop]
                },
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["sleep", "1000"]), waitTimeout: .seconds(5), readyAfter: .zero)
            _ = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            let pipe = try #require(first?.pipe, "the watchdog or its pipe was not found")
            #expect(afterReplacement == pipe, "descriptor \(first?.fd ?? "?") became \(afterReplacement ?? "closed")")
            hygiene.check()
        }

        /// This process's children that are watchdogs.
        static func watchdogs() -> [pid_t] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { name in
                guard let pid = pid_t(name),
                    let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                    stat.contains("(corral-watchdog)"), let close = stat.lastIndex(of: ")")
                else { return nil }
                let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
                return fields.count > 1 && pid_t(fields[1]) == getpid() ? pid : nil
            }
        }

        /// This process's open descriptors.
        static func descriptors() -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        }

        /// What a /proc symbolic link points to, or nil.
        static func link(_ path: String) -> String? {
            try? FileManager.default.destinationOfSymbolicLink(atPath: path)
        }

        /// CLOCK_BOOTTIME now, in nanoseconds.
        static func bootTimeNanoseconds() -> Int64 {
            var now = timespec()
            clock_gettime(CLOCK_BOOTTIME, &now)
            return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        }

        @Test("READY=1 from a process that is not a child (a grandchild) changes nothing")
        func foreignReady() throws {
            let hygiene = ProcessHygiene()
            var stateAfterDatagram: ProcessState?
            let recorder = Recorder(steps: [
                .init(condition: .event { if case .spawned = $0 { true } else { false } }) { _ in [] },
                .init(condition: .after(.milliseconds(1200))) { recorder in
                    stateAfterDatagram = recorder.states[0]
                    return [.stop]
                },
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(Self.notifyScript(delay: 0.1, fromGrandchild: true), readiness: .notify),
                waitTimeout: .seconds(5))
            _ = try Supervisor(configuration).run(frontend: recorder)
            #expect(stateAfterDatagram == .initializing)
            hygiene.check()
        }

        @Test("--notify-access all: READY=1 from another process of the worker's group makes it running")
        func notifyAccessAll() throws {
            let hygiene = ProcessHygiene()
            // A background helper of the worker's shell (same process group) reports ready, and
            // stays alive; the worker process itself never sends anything.
            let send = """
                import os, socket, time
                name = os.environ["NOTIFY_SOCKET"]
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.sendto(b"READY=1", "\\0" + name[1:] if name.startswith("@") else name)
                time.sleep(1000)
                """
            let script = ["sh", "-c", "python3 -c '\(send)' & exec sleep 1000"]
            for access in [NotifyAccess.all, .main] {
                var configuration = SupervisorConfiguration(
                    workers: 1, worker: .command(script, readiness: .notify), waitTimeout: .seconds(5))
                configuration.notifyAccess = access
                // Without access, the datagram (sent at once) is ignored: still initializing 1.5 s later.
                let recorder = Recorder(steps: [
                    .init(condition: access == .all ? .running(1) : .after(.milliseconds(1500))) { _ in [.stop] }
                ])
                _ = try Supervisor(configuration).run(frontend: recorder)
                #expect(!recorder.timedOut)
                let ran = recorder.stateHistory(0).contains(.running)
                #expect(ran == (access == .all), "\(access): \(recorder.stateHistory(0))")
            }
            hygiene.check()
        }

        @Test(
            "a shell-script worker using the real systemd-notify --ready becomes running",
            .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-notify")))
        func realSystemdNotify() throws {
            let hygiene = ProcessHygiene()
            var configuration = SupervisorConfiguration(
                workers: 2,
                worker: .command(
                    ["sh", "-c", "sleep 0.1; systemd-notify --ready --status=serving; exec sleep 1000"],
                    readiness: .notify),
                waitTimeout: .seconds(5))
            configuration.notifyAccess = .all
            let recorder = Recorder(steps: [.init(condition: .running(2)) { _ in [.stop] }])
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut, "never running: \(recorder.stateHistory(0))")
            #expect(recorder.events.contains(.status(slot: 0, text: "serving")))
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("every child gets CORRAL_PROCESS_INDEX and NOTIFY_SOCKET; extras continue the indices")
        func environment() throws {
            let hygiene = ProcessHygiene()
            let print = ["sh", "-c", "echo index=$CORRAL_PROCESS_INDEX notify=${NOTIFY_SOCKET:+set}; exec sleep 1000"]
            let recorder = Recorder(steps: [
                .init(condition: .when { recorder in (0..<3).allSatisfy { !recorder.output($0).isEmpty } }) { _ in
                    [.stop]
                }
            ])
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(print), extras: [.command(print)], waitTimeout: .seconds(5))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            for slot in 0..<3 {
                #expect(recorder.output(slot) == ["index=\(slot) notify=set"])
            }
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("a run of programs: each process its program's command, name, index, count, PORT and environment")
        func programs() throws {
            let hygiene = ProcessHygiene()
            let print = [
                "/bin/sh", "-c",
                "echo $CORRAL_PROCESS_NAME $CORRAL_PROGRAM $CORRAL_PROCESS_INDEX $CORRAL_WORKER_COUNT ${PORT:-none} "
                    + "${GREETING:-none}; exec sleep 1000",
            ]
            let recorder = Recorder(steps: [
                .init(condition: .when { recorder in (0..<3).allSatisfy { !recorder.output($0).isEmpty } }) { _ in
                    [.stop]
                }
            ])
            let programs = [
                Program("web", command: print, workers: 2, environment: ["GREETING": "hi"], firstPort: 5000),
                Program("clock", command: print, environment: ["PORT": "9999"], firstPort: 5100),
            ]
            let configuration = SupervisorConfiguration(
                workers: 3, worker: .command(print), waitTimeout: .seconds(5), programs: programs)
            #expect(configuration.processName(ofSlot: 2) == ProcessName(program: "clock", index: 0))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(recorder.output(0) == ["web.0 web 0 2 5000 hi"])
            #expect(recorder.output(1) == ["web.1 web 1 2 5001 hi"])
            #expect(recorder.output(2) == ["clock.0 clock 0 1 9999 none"], "its own PORT wins")
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("arguments, environment and directory reach the child byte for byte; a LISTEN_PID without sockets goes")
        func argumentsAndEnvironmentExactly() throws {
            let hygiene = ProcessHygiene()
            let print = [
                "/bin/sh", "-c",
                #"printf '[%s]' "$@" "${EMPTY-unset}" "$GREETING" "${LISTEN_PID-none}" "$(pwd)"; echo; exec sleep 1000"#,
                "sh", "", "привет мир", "a  b",
            ]
            let recorder = Recorder(steps: [
                .init(condition: .when { recorder in (0..<2).allSatisfy { !recorder.output($0).isEmpty } }) { _ in
                    [.stop]
                }
            ])
            let programs = [
                Program(
                    "web", command: print, workers: 2,
                    environment: ["EMPTY": "", "GREETING": "日本語 текст", "LISTEN_PID": "1"],
                    workingDirectory: "/tmp")
            ]
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(print), waitTimeout: .seconds(5), programs: programs)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            for slot in 0..<2 {
                #expect(recorder.output(slot) == ["[][привет мир][a  b][][日本語 текст][none][/tmp]"])
            }
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("a first start that fails kills and reaps the slots started ahead of their turn")
        func failedStartAbandonsTheOnesAhead() throws {
            let hygiene = ProcessHygiene()
            // Slot 0 cannot enter its directory; slots 1… go to the spawner thread while it is
            // being started, and its failure ends the run before they are taken.
            let sleep = ["/bin/sh", "-c", "exec sleep 1000"]
            let programs = [
                Program("broken", command: sleep, workingDirectory: "/nonexistent/corral-test"),
                Program("fine", command: sleep, workers: 6),
            ]
            let recorder = Recorder(timeLimit: .seconds(20))
            let configuration = SupervisorConfiguration(
                workers: 7, worker: .command(sleep), waitTimeout: .seconds(5), programs: programs)
            #expect(throws: SupervisorError.self) { try Supervisor(configuration).run(frontend: recorder) }
            #expect(!recorder.timedOut)
            #expect(recorder.pids.isEmpty, "no slot was taken: \(recorder.pids)")
            hygiene.check()
        }

        @Test("a run of programs is checked: names, counts, the workers total")
        func badPrograms() {
            let command = ["true"]
            for (programs, workers) in [
                ([Program("web", command: command), Program("web", command: command)], 2),
                ([Program("we b", command: command)], 1),
                ([Program("web", command: command, workers: 0)], 0),
                ([Program("web", command: command, workers: 2)], 3),
                ([Program("web", command: [])], 1),
            ] {
                let configuration = SupervisorConfiguration(
                    workers: workers, worker: .command(command), programs: programs)
                #expect(throws: ConfigurationError.self) { try configuration.validate() }
            }
        }

        @Test("a child sees only descriptors 0, 1, 2 and the inherited sockets")
        func descriptorHygiene() throws {
            let hygiene = ProcessHygiene()
            let socket = try Listener.tcp(host: "127.0.0.1", port: 0)
            // ls opens /proc/self/fd itself, so it sees one descriptor more than it inherited.
            let list = ["sh", "-c", "exec ls /proc/self/fd"]
            let recorder = Recorder()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(list), failurePolicy: .keepRunning)
            _ = try Supervisor(configuration).run(
                payload: LaunchPayload(sockets: [("http", socket.rawValue)]), signals: nil, frontend: recorder)
            for slot in 0..<2 {
                let descriptors = Set(recorder.output(slot))
                #expect(descriptors.isSubset(of: ["0", "1", "2", "3", "4"]), "slot \(slot) saw \(descriptors)")
                #expect(descriptors.isSuperset(of: ["0", "1", "2", "3"]), "slot \(slot) saw \(descriptors)")
                #expect(descriptors.count == 5, "the inherited socket (3) and ls's own directory (4): \(descriptors)")
            }
            Listener.close(socket)
            hygiene.check()
        }

        @Test("READY=1 twice and STOPPING=1 before ready are handled: no duplicate state, stopping shown")
        func notifyOddities() throws {
            let hygiene = ProcessHygiene()
            let script = """
                import os, socket, signal
                name = os.environ["NOTIFY_SOCKET"]
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                address = "\\0" + name[1:] if name.startswith("@") else name
                s.sendto(b"STOPPING=1", address) if os.environ["CORRAL_PROCESS_INDEX"] == "1" else None
                s.sendto(b"READY=1", address)
                s.sendto(b"READY=1", address)
                signal.sigwait([signal.SIGTERM])
                """
            let recorder = Recorder(steps: [
                .init(condition: .running(1)) { _ in [] },
                .init(condition: .after(.milliseconds(500))) { _ in [.stop] },
            ])
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["python3", "-c", script], readiness: .notify))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(recorder.stateHistory(0) == [.initializing, .running, .stopping, .exited])
            #expect(recorder.stateHistory(1) == [.initializing, .stopping, .exited])
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("reapsOrphans: descendants the workers orphan are adopted and reaped, none left as zombies")
        func reapsOrphans() throws {
            let hygiene = ProcessHygiene()
            var adoptedParents: [pid_t?] = []
            let recorder = Recorder(steps: [
                .init(condition: .when { recorder in (0..<2).allSatisfy { !recorder.output($0).isEmpty } }) { _ in [] },
                .init(condition: .after(.milliseconds(100))) { recorder in
                    // Each worker printed the pid of the `sleep 0.3` it orphaned: who is its parent now?
                    adoptedParents = (0..<2).map { slot in
                        recorder.output(slot).first.flatMap { pid_t($0) }.flatMap(parentOf)
                    }
                    return []
                },
                .init(condition: .after(.milliseconds(600))) { _ in [.stop] },
            ])
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sh", "-c", "(sleep 0.3 & echo $!); exec sleep 1000"]),
                reapsOrphans: true)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(report.exitStatus == 0)
            #expect(adoptedParents == [getpid(), getpid()], "orphans were not adopted: \(adoptedParents)")
            // They ended during the run: reaped, so hygiene finds no child left, zombie or not.
            hygiene.check()
        }

        @Test("the program behind sh -c gets the stop signal exactly once, and nothing of the group outlives the run")
        func shellCommandGetsOneStopSignal() throws {
            let hygiene = ProcessHygiene()
            let directory = try RecordDirectory()
            let log = directory.path + "/signals"
            // The shell does not exec the program (a command follows it); the program counts
            // the SIGTERMs it receives and stays a while, so a second one would be seen.
            let program = """
                import signal, sys, time
                def term(number, frame):
                    open("\(log)", "a").write("TERM\\n")
                signal.signal(signal.SIGTERM, term)
                print("ready", flush=True)
                time.sleep(1000)
                """
            let recorder = Recorder(steps: [
                .init(condition: .when { $0.output(0).contains("ready") }) { _ in [.stop] }
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["sh", "-c", "python3 -c '\(program)'; echo done"]),
                waitTimeout: .milliseconds(800), reapsOrphans: true)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            let received = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(received == "TERM\n", "the program got \(received.split(separator: "\n").count) SIGTERMs")
            #expect(report.leftBehind.isEmpty, "left behind: \(report.leftBehind)")
            // The program ignored its SIGTERM: its group was SIGKILLed at the deadline.
            #expect(report.slots[0].failure == .groupKilledAfterTimeout(.milliseconds(800)))
            #expect(report.exitStatus == SupervisorReport.exitChildrenKilled)
            #expect(!recorder.output(0).contains("done"))
            hygiene.check()
        }

        @Test("a worker that forks many sleepers and exits: its group is stopped, none survives, none is 'left behind'")
        func forkedSleepersAreStopped() throws {
            let hygiene = ProcessHygiene()
            let recorder = Recorder(steps: [])
            let configuration = SupervisorConfiguration(
                workers: 1,
                worker: .command([
                    "sh", "-c", "for i in $(seq 200); do sleep 1000 & done; echo forked",
                ]),
                waitTimeout: .seconds(5), reapsOrphans: true)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(recorder.output(0) == ["forked"])
            #expect(report.leftBehind.isEmpty, "left behind: \(report.leftBehind.prefix(3))")
            // Its exit was a failure, so the fail-fast stop's SIGTERM reached what remained of it.
            #expect(
                recorder.events.contains(.signalSent(slot: 0, pid: report.slots[0].pid ?? 0, .terminate, .failFast)))
            let group = try #require(report.slots[0].pid)
            #expect(runningMembers(ofGroup: group).isEmpty, "sleepers outlived the run")
            hygiene.check()
        }

        @Test(
            "beside a thread that reaps with waitpid(-1) in a loop, every spawn succeeds and the report says who took an exit"
        )
        func competingReaper() throws {
            let hygiene = ProcessHygiene()
            let stop = ManagedAtomicFlag()
            // What the host does: reap any child, all the time (Foundation's Process, a library).
            let reaper = Thread {
                while !stop.isSet {
                    var status: Int32 = 0
                    _ = waitpid(-1, &status, WNOHANG)
                    usleep(200)
                }
            }
            reaper.start()
            defer { stop.set() }
            // Children that end at once: the window in which a pidfd opened after the spawn
            // finds its child already reaped by the other thread ("No such process").
            for _ in 0..<20 {
                let recorder = Recorder(timeLimit: .seconds(20))
                let report = try Supervisor(
                    SupervisorConfiguration(workers: 16, worker: .command(["true"]), failurePolicy: .keepRunning)
                ).run(frontend: recorder)
                #expect(!recorder.timedOut, "the run did not end")
                #expect(report.slots.allSatisfy { $0.end != nil }, "a slot did not end: \(report)")
                for slot in report.slots where slot.end?.termination == .reapedElsewhere {
                    #expect(slot.description.contains("another reaper in this process took its exit status"))
                }
            }
            stop.set()
            while !reaper.isFinished { usleep(1000) }
            hygiene.check()
        }

        @Test("a grandchild that left its process group cannot be stopped: the report names it")
        func leftBehind() throws {
            let hygiene = ProcessHygiene()
            let script = """
                import os, signal, time
                if os.fork() == 0:
                    os.setsid()
                    print(os.getpid(), flush=True)
                    time.sleep(1000)
                    os._exit(0)
                signal.sigwait([signal.SIGTERM])
                """
            let recorder = Recorder(steps: [
                .init(condition: .when { !$0.output(0).isEmpty }) { _ in [.stop] }
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["python3", "-c", script]), reapsOrphans: true)
            let report = try Supervisor(configuration).run(frontend: recorder)
            let escaped = try #require(recorder.output(0).first.flatMap { pid_t($0) })
            #expect(report.leftBehind.map(\.pid) == [escaped])
            #expect(report.leftBehind.first?.command == "python3")
            #expect(report.description.contains("left behind: pid \(escaped) (python3)"))
            // It is this process's child now (adopted): end it, as the test must leave nothing.
            kill(escaped, SIGKILL)
            var status: Int32 = 0
            waitpid(escaped, &status, 0)
            hygiene.check()
        }

        @Test("a spawn that fails half-way stops the children already started and names the executable and errno")
        func spawnFailsHalfWay() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            let broken = records.path + "/not-a-program"
            #expect(
                FileManager.default.createFile(
                    atPath: broken, contents: Data([0, 1, 2, 3]), attributes: [.posixPermissions: 0o755]))
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sleep", "1000"]),
                extras: [.command(["sleep", "1000"]), .command([broken])], waitTimeout: .seconds(5))
            let recorder = Recorder()
            do {
                _ = try Supervisor(configuration).run(frontend: recorder)
                Issue.record("the run did not throw")
            } catch {
                guard case .spawnFailed(let spawn) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(spawn.executable == broken)
                #expect(spawn.slot == 3)
                #expect(spawn.errno == .execFormatError)
                #expect(error.description.contains(broken) && error.description.contains("errno \(ENOEXEC)"))
            }
            let started = recorder.pids
            #expect(started.count == 3)
            #expect(waitUntilGone(Array(started.values)).isEmpty)
            for slot in 0..<3 { #expect(recorder.signalsSent[slot] == [.terminate]) }
            hygiene.check()
        }

        @Test("a command that is not in PATH is refused before anything is spawned")
        func missingCommand() throws {
            let hygiene = ProcessHygiene()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sleep", "1000"]), extras: [.command(["no-such-program-corral"])])
            let recorder = Recorder()
            #expect(throws: SupervisorError.self) { try Supervisor(configuration).run(frontend: recorder) }
            #expect(recorder.events.isEmpty)
            do {
                _ = try Supervisor(configuration).run(frontend: recorder)
                Issue.record("a command not found in PATH was accepted")
            } catch {
                #expect(
                    error.description == "cannot start no-such-program-corral for slot 2: command not found in PATH")
            }
            hygiene.check()
        }

        @Test("bad configuration values are rejected before anything is spawned")
        func invalidConfiguration() throws {
            let hygiene = ProcessHygiene()
            let cases: [(SupervisorConfiguration, String)] = [
                (SupervisorConfiguration(workers: 0), "workers"),
                (SupervisorConfiguration(workers: 1_000_000_000), "workers"),
                (SupervisorConfiguration(stopSignals: []), "stop signals"),
                (SupervisorConfiguration(stopSignals: [.kill]), "stop signals"),
                (SupervisorConfiguration(stopSignals: [.terminate, .terminate]), "stop signals"),
                (SupervisorConfiguration(waitTimeout: .seconds(-1)), "wait timeout"),
                (SupervisorConfiguration(initTimeout: .zero), "init timeout"),
                (SupervisorConfiguration(worker: .command([])), "worker command"),
                (SupervisorConfiguration(extras: [.command([""])]), "extra process 0 command"),
            ]
            for (configuration, field) in cases {
                do {
                    _ = try Supervisor(configuration).run()
                    Issue.record("accepted a bad \(field)")
                } catch {
                    guard case .invalidConfiguration(let invalid) = error else {
                        Issue.record("unexpected \(error)")
                        continue
                    }
                    #expect(invalid.field == field)
                }
            }
            #expect(throws: Never.self) { try SupervisorConfiguration(waitTimeout: nil).validate() }
            hygiene.check()
        }

        @Test("a whole server: main init and shutdown run once, the shared value and the socket reach every worker")
        func wholeServer() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            var replies: [String] = []
            let recorder = Recorder(steps: [
                .init(condition: .event(Self.mainIsListening)) { _ in [] },
                // The workers report ready to their own supervisor; give them a moment, then connect.
                .init(condition: .after(.milliseconds(700))) { recorder in
                    let line = recorder.output(0).first { $0.hasPrefix("main listening on port ") } ?? ""
                    let port = UInt16(line.split(separator: " ").last ?? "") ?? 0
                    for _ in 0..<8 { replies.append(request(port: port)) }
                    return [.signal(.interrupt, to: .all)]
                },
            ])
            let configuration = SupervisorConfiguration(
                workers: 1,
                worker: .command([helperExecutable, "server", "--workers", "3", "--record", records.path]),
                waitTimeout: .seconds(10))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(report.slots[0].end?.termination == .exited(code: 0))
            let main = records.lines(1000)
            #expect(main.count == 2)
            #expect(main.first?.hasPrefix("main-init") == true)
            #expect(main.last == "main-shutdown stop=SIGINT status=0")
            let mainPid = main.first.map { String($0.split(separator: "=").last ?? "") } ?? ""
            for slot in 0..<3 {
                #expect(records.value("shared", slot) == "hello from \(mainPid)")
                #expect(records.value("socket", slot)?.hasPrefix("3 port=") == true)
                #expect(records.value("stop", slot) == "SIGINT")
                #expect(records.value("received", slot) == "SIGINT")
            }
            #expect(replies.count == 8)
            #expect(replies.allSatisfy { $0.split(separator: " ").count == 2 }, "\(replies)")
            hygiene.check()
        }

        @Test("a worker failing its init: main shutdown still runs, and the server exits with status 1")
        func mainShutdownAfterInitFailure() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            let recorder = Recorder()
            let configuration = SupervisorConfiguration(
                workers: 1,
                worker: .command([
                    helperExecutable, "server", "--workers", "3", "--fail-init", "1", "--record", records.path,
                ]),
                waitTimeout: .seconds(10), failurePolicy: .keepRunning)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(report.slots[0].end?.termination == .exited(code: 1))
            #expect(records.lines(1000).last == "main-shutdown stop=SIGTERM status=1")
            for slot in [0, 2] { #expect(records.value("stop", slot) == "SIGTERM") }
            #expect(recorder.output(0).contains { $0.contains("init failed") })
            hygiene.check()
        }

        @Test("the supervisor killed with SIGKILL: every worker and grandchild is gone within a second")
        func supervisorKilled() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            var workerPids: [pid_t] = []
            var grandchildPids: [pid_t] = []
            let recorder = Recorder(steps: [
                .init(condition: .event(Self.mainIsListening)) { _ in [] },
                .init(condition: .after(.milliseconds(700))) { _ in
                    workerPids = (0..<3).compactMap { records.value("pid", $0).flatMap { pid_t($0) } }
                    grandchildPids = (0..<3).compactMap { records.value("grandchild", $0).flatMap { pid_t($0) } }
                    return [.forceKill(.slot(0))]
                },
            ])
            let configuration = SupervisorConfiguration(
                workers: 1,
                worker: .command([
                    helperExecutable, "server", "--workers", "3", "--grandchild", "all", "--record", records.path,
                ]),
                waitTimeout: .seconds(10), failurePolicy: .keepRunning)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(report.slots[0].end?.termination.signal == .kill)
            #expect(workerPids.count == 3)
            #expect(grandchildPids.count == 3)
            #expect(waitUntilGone(workerPids, limit: .seconds(1)).isEmpty, "workers outlived their supervisor")
            #expect(waitUntilGone(grandchildPids, limit: .seconds(1)).isEmpty, "grandchildren outlived the supervisor")
            // Clean up even when the check failed: nothing of this test may outlive it.
            for pid in workerPids + grandchildPids where processExists(pid) { kill(pid, SIGKILL) }
            hygiene.check()
        }

        @Test("the caller's signal handlers and mask are restored, also when main init throws")
        func signalStateRestored() throws {
            let previous = Glibc.signal(SIGTERM, SIG_IGN)
            defer { Glibc.signal(SIGTERM, previous) }
            let hygiene = ProcessHygiene()
            struct MainInitFailed: Error {}
            let server = Server(configuration: SupervisorConfiguration(workers: 1))
            #expect(throws: MainInitFailed.self) {
                _ = try server.run(sharing: NoSharedValue.self) { (_: Launcher<NoSharedValue>) -> Int in
                    throw MainInitFailed()
                } worker: { _, _ in
                }
            }
            hygiene.check()
        }
    }
}

/// Connects to 127.0.0.1:`port` and returns the first line the server sends.
func request(port: UInt16) -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return "" }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = read(fd, &buffer, buffer.count)
    return count > 0
        ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
}
