import Foundation
import Glibc
import SystemPackage
import Testing

@testable import CorralEngine

/// Abuse: signal storms and output floods, on real processes.
extension RealProcesses {
    @Suite("Abuse")
    struct AbuseTests {
        /// Counts events without keeping them (a flood must not grow the test's memory either).
        final class Counter: PollingFrontend {
            var outputLines = 0
            var outputBytes = 0
            var signalsSent: [Int: [Signal]] = [:]
            var stopping = 0
            var running = 0
            /// The stop's SIGKILL deadline, and the one every repeated stop signal reported.
            var deadline: ContinuousClock.Instant?
            var repeatedDeadlines: [ContinuousClock.Instant?] = []
            /// When each SIGKILL was handed to the front end, and why it was sent.
            var kills: [(at: ContinuousClock.Instant, reason: SignalReason)] = []
            var onRunning: (() -> Void)?
            var onSpawned: (() -> Void)?
            var onOutput: (() -> Void)?
            var pendingCommands: [SupervisorCommand] = []
            let limit = ContinuousClock.now + .seconds(30)
            var timedOut = false

            var nextDeadline: ContinuousClock.Instant? { limit }

            func handle(_ event: EngineEvent) {
                switch event {
                case .output(_, _, let line):
                    outputLines += 1
                    outputBytes += line.utf8.count
                    onOutput?()
                case .signalSent(let slot, _, let signal, let reason, _):
                    signalsSent[slot, default: []].append(signal)
                    if signal == .kill { kills.append((.now, reason)) }
                case .stopping(_, _, let deadline):
                    stopping += 1
                    self.deadline = deadline
                case .stopRepeated(_, let deadline): repeatedDeadlines.append(deadline)
                case .spawned:
                    onSpawned?()
                    onSpawned = nil
                case .serverStateChanged(.running):
                    onRunning?()
                    onRunning = nil
                default: break
                }
            }

            func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
                if now >= limit && !timedOut {
                    timedOut = true
                    pendingCommands.append(.forceKill(.all))
                }
                defer { pendingCommands.removeAll() }
                return pendingCommands
            }
        }

        /// Sends `count` signals, alternating SIGTERM and SIGINT, to this process (the supervisor),
        /// from the driver thread, so all of them arrive while the run's handlers are installed.
        static func storm(_ count: Int) {
            for index in 0..<count { kill(getpid(), index % 2 == 0 ? SIGTERM : SIGINT) }
        }

        @Test("a storm of 1,000 SIGTERMs and SIGINTs during start-up: one shutdown, each worker signalled once")
        func stormDuringStartUp() throws {
            let hygiene = ProcessHygiene()
            let counter = Counter()
            counter.onSpawned = { Self.storm(1000) }
            let configuration = SupervisorConfiguration(
                workers: 16, worker: .command(["sleep", "1000"]), waitTimeout: .seconds(5))
            let report = try Supervisor(configuration).run(frontend: counter)
            #expect(!counter.timedOut)
            #expect(counter.stopping == 1)
            let started = report.slots.filter { $0.pid != nil }
            #expect(!started.isEmpty)
            #expect(counter.signalsSent.count == started.count, "every started worker was signalled")
            #expect(counter.signalsSent.values.allSatisfy { $0.count == 1 })
            #expect(report.exitStatus == 0)
            #expect(started.allSatisfy { $0.end?.isClean == true })
            hygiene.check()
        }

        @Test("a storm of 1,000 signals while stopping: no duplicate signal, the deadline holds")
        func stormWhileStopping() throws {
            let hygiene = ProcessHygiene()
            let counter = Counter()
            // Workers that ignore SIGTERM, so the stop lasts until the 1 s timeout.
            // Each prints a line once its trap is set; the storm starts when all four have.
            let ignoring = ["sh", "-c", "trap '' TERM INT; echo trapped; while :; do sleep 0.05; done"]
            counter.onOutput = {
                guard counter.outputLines == 4 else { return }
                kill(getpid(), SIGTERM)
                Self.storm(1000)
            }
            let configuration = SupervisorConfiguration(
                workers: 4, worker: .command(ignoring), waitTimeout: .seconds(1))
            let report = try Supervisor(configuration).run(frontend: counter)
            #expect(counter.stopping == 1)
            // Signals pending together are delivered lowest number first, so the stop signal may
            // be SIGINT or SIGTERM; either way each worker got it once, then the timeout's SIGKILL.
            let stopSignal = try #require(report.stopSignal)
            #expect(stopSignal == .terminate || stopSignal == .interrupt)
            for slot in 0..<4 { #expect(counter.signalsSent[slot] == [stopSignal, .kill]) }
            // The deadline holds: every repeated signal kept it, and the SIGKILLs came from the
            // timeout, not before it. (How close to it is CorralBench's to measure.)
            let deadline = try #require(counter.deadline)
            #expect(!counter.repeatedDeadlines.isEmpty, "no repeated stop signal was reported")
            #expect(counter.repeatedDeadlines.allSatisfy { $0 == deadline || $0 == nil })
            #expect(counter.kills.count == 4)
            #expect(counter.kills.allSatisfy { $0.reason == .timeout && $0.at >= deadline })
            #expect(report.exitStatus == SupervisorReport.exitChildrenKilled)
            hygiene.check()
        }

        @Test(
            "notify abuse: oversized and malformed datagrams, a STATUS flood, a false MAINPID; the socket goes with the run"
        )
        func notifyAbuse() throws {
            let hygiene = ProcessHygiene()
            let script = """
                import os, socket, signal
                name = os.environ["NOTIFY_SOCKET"]
                print(name, flush=True)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                address = "\\0" + name[1:] if name.startswith("@") else name
                s.sendto(b"STATUS=" + b"y" * 3000, address)
                s.sendto(b"STATUS=" + b"x" * 60000, address)
                s.sendto(b"\\xff\\xfe=\\x00\\nREADY\\n=1\\nMAINPID=1", address)
                for i in range(10000):
                    try:
                        s.sendto(b"STATUS=update %d" % i, address)
                    except BlockingIOError:
                        pass
                s.sendto(b"READY=1\\nSTATUS=done", address)
                signal.sigwait([signal.SIGTERM])
                """
            var statuses: [String] = []
            var address = ""
            let recorder = Recorder(steps: [
                .init(condition: .running(1)) { recorder in
                    address = recorder.output(0).first ?? ""
                    return [.stop]
                }
            ])
            let frontend = Tap(recorder) { event in
                if case .status(_, let text) = event { statuses.append(text) }
            }
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["python3", "-c", script], readiness: .notify))
            let report = try Supervisor(configuration).run(frontend: frontend)
            #expect(!recorder.timedOut)
            #expect(report.exitStatus == 0)
            #expect(statuses.allSatisfy { $0.count <= NotifyMessage.maximumStatusLength })
            // A long status is cut; one in a datagram too big to read whole is dropped with it.
            #expect(statuses.first == String(repeating: "y", count: NotifyMessage.maximumStatusLength))
            #expect(!statuses.contains { $0.hasPrefix("x") })
            #expect(statuses.last == "done")
            #expect(recorder.stateHistory(0) == [.initializing, .running, .stopping, .exited])
            // The socket went with the run, and its private directory too.
            #expect(address.hasSuffix("/notify"))
            #expect(!FileManager.default.fileExists(atPath: address))
            #expect(!FileManager.default.fileExists(atPath: (address as NSString).deletingLastPathComponent))
            #expect(throws: SystemCallError.self) { try Syscalls.sendUnixDatagram(to: address, Array("READY=1".utf8)) }
            hygiene.check()
        }

        @Test("the notify socket is a file in a private 0700 directory of ours: another user cannot send to it")
        func notifySocketIsPrivate() throws {
            let hygiene = ProcessHygiene()
            var address = ""
            var directoryMode: mode_t = 0
            var directoryOwner: uid_t = 0
            var strangerStatus: Int32 = -1
            let recorder = Recorder(steps: [
                .init(condition: .when { !$0.output(0).isEmpty }) { recorder in
                    address = recorder.output(0)[0]
                    var info = stat()
                    stat((address as NSString).deletingLastPathComponent, &info)
                    directoryMode = info.st_mode & 0o777
                    directoryOwner = info.st_uid
                    if getuid() == 0 {
                        // As nobody, the datagram cannot even reach the socket (EACCES).
                        strangerStatus = system(
                            "python3 -c 'import os, socket; os.setgid(65534); os.setuid(65534); "
                                + "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"READY=1\", \"\(address)\")' "
                                + "2>/dev/null")
                    }
                    return [.stop]
                }
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["sh", "-c", "echo $NOTIFY_SOCKET; exec sleep 100"]))
            _ = try Supervisor(configuration).run(frontend: recorder)
            #expect(address.hasPrefix("/") && address.hasSuffix("/notify"), "\(address)")
            #expect(directoryMode == 0o700)
            #expect(directoryOwner == getuid())
            if getuid() == 0 { #expect(strangerStatus != 0 && strangerStatus != -1, "nobody could send") }
            hygiene.check()
        }

        @Test("descriptors passed with SCM_RIGHTS are never received; the sender's READY=1 still counts")
        func passedDescriptorsRefused() throws {
            let hygiene = ProcessHygiene()
            let script = """
                import array, os, socket, signal
                name = os.environ["NOTIFY_SOCKET"]
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                r, w = os.pipe()
                rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r, w, r, w]))]
                try:
                    s.sendmsg([b"STATUS=with descriptors"], rights, 0, name)
                    print("sent", flush=True)
                except PermissionError:
                    print("refused", flush=True)
                s.sendto(b"READY=1", name)
                signal.sigwait([signal.SIGTERM])
                """
            let recorder = Recorder(steps: [.init(condition: .running(1)) { _ in [.stop] }])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["python3", "-c", script], readiness: .notify))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(report.exitStatus == 0)
            // Linux 6.16 and later refuse them at the sender (SO_PASSRIGHTS off); older kernels
            // take the datagram and drop the descriptors unread.
            var names = utsname()
            uname(&names)
            let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
            let refuses = version.count == 2 && (version[0], version[1]) >= (6, 16)
            #expect(recorder.output(0).first == (refuses ? "refused" : "sent"), "\(recorder.output(0)) on \(release)")
            // hygiene compares this process's descriptors: none of the passed ones arrived.
            hygiene.check()
        }

        @Test("a datagram flood from a sibling does not starve the workers' READY=1")
        func notifyFlood() throws {
            let hygiene = ProcessHygiene()
            let flood = """
                import os, socket
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.setblocking(False)
                while True:
                    try:
                        s.sendto(b"STATUS=flood", os.environ["NOTIFY_SOCKET"])
                    except BlockingIOError:
                        pass
                """
            // Non-blocking senders that retry (for at most 15 s), as a careful sd_notify user does.
            let worker = """
                import os, socket, signal, time
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.setblocking(False)
                for attempt in range(1500):
                    try:
                        s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
                        break
                    except BlockingIOError:
                        time.sleep(0.01)
                signal.sigwait([signal.SIGTERM])
                """
            let recorder = Recorder(timeLimit: .seconds(20), steps: [.init(condition: .running(5)) { _ in [.stop] }])
            let configuration = SupervisorConfiguration(
                workers: 4, worker: .command(["python3", "-c", worker], readiness: .notify),
                extras: [.command(["python3", "-c", flood])], waitTimeout: .seconds(2))
            _ = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut, "the workers never all ran under the flood")
            #expect((0..<4).allSatisfy { recorder.stateHistory($0).contains(.running) })
            hygiene.check()
        }

        @Test("1,000 start/stop cycles in one process leave descriptors and children where they were")
        func manyCycles() throws {
            let hygiene = ProcessHygiene()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["true"]), failurePolicy: .keepRunning)
            var statuses: [Int32: Int] = [:]
            for _ in 0..<1000 {
                let frontend = Recorder(timeLimit: .seconds(10))
                let report = try Supervisor(configuration).run(frontend: frontend)
                statuses[report.exitStatus, default: 0] += 1
            }
            // `true` ends by itself every time: each run is "every process ended by itself".
            #expect(statuses == [SupervisorReport.exitChildFailed: 1000])
            hygiene.check()
        }

        @Test("a worker ignoring its stop signal, with a grandchild ignoring SIGTERM: the whole group is SIGKILLed")
        func stubbornGroup() throws {
            let hygiene = ProcessHygiene()
            let stubborn = [
                "sh", "-c",
                "trap '' TERM INT; sh -c 'trap \"\" TERM INT; echo $$; while :; do sleep 0.05; done' & wait",
            ]
            var grandchild: pid_t?
            let counter = Counter()
            // The grandchild prints its pid once both traps are set: only then is the stop sent.
            let frontend = Tap(counter) { event in
                guard case .output(_, _, let line) = event else { return }
                grandchild = pid_t(line)
                kill(getpid(), SIGTERM)
            }
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(stubborn), waitTimeout: .milliseconds(500))
            let report = try Supervisor(configuration).run(frontend: frontend)
            let end = try #require(report.slots[0].end)
            #expect(end.termination.signal == .kill)
            #expect(end.origin == .supervisor(.timeout))
            #expect(end.failure == .killedAfterTimeout(.milliseconds(500)))
            let pid = try #require(grandchild)
            #expect(waitUntilGone([pid]).isEmpty, "the grandchild ignoring SIGTERM survived")
            hygiene.check()
        }

        @Test("a zombie-maker (forks, never reaps): reported truthfully, its zombies reaped once adopted")
        func zombieMaker() throws {
            let hygiene = ProcessHygiene()
            let script = """
                import os, signal, time
                for _ in range(20):
                    if os.fork() == 0:
                        os._exit(0)
                print("made zombies", flush=True)
                signal.sigwait([signal.SIGTERM])
                """
            let recorder = Recorder(steps: [
                .init(condition: .when { !$0.output(0).isEmpty }) { _ in [] },
                .init(condition: .after(.milliseconds(200))) { _ in [.stop] },
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(["python3", "-c", script]), reapsOrphans: true)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(report.slots[0].end?.isClean == true)
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("an output flood: the supervisor stays responsive, escalates on time, and its memory stays bounded")
        func outputFlood() throws {
            let hygiene = ProcessHygiene()
            let counter = Counter()
            // Two workers write as fast as they can, on both streams, long lines and no newline
            // at all, and ignore SIGTERM: only the timeout's SIGKILL ends them.
            let flood = [
                "sh", "-c",
                "trap '' TERM; (yes 'a line of output' &) ; (yes 'to stderr' >&2 &) ; head -c 100000000 /dev/zero | tr '\\\\0' x",
            ]
            counter.onRunning = {
                DispatchQueue.global().asyncAfter(deadline: .now() + 1) { kill(getpid(), SIGTERM) }
            }
            let before = ProcessInfoSnapshot.residentKiB()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(flood), waitTimeout: .seconds(1))
            let report = try Supervisor(configuration).run(frontend: counter)
            let after = ProcessInfoSnapshot.residentKiB()
            #expect(!counter.timedOut)
            #expect(counter.outputBytes > 1_000_000, "read only \(counter.outputBytes) bytes")
            // Escalated by the timeout despite the flood (how promptly is CorralBench's to measure).
            let deadline = try #require(counter.deadline)
            #expect(counter.kills.count == 2)
            #expect(counter.kills.allSatisfy { $0.reason == .timeout && $0.at >= deadline })
            #expect(report.slots.allSatisfy { $0.end?.termination.signal == .kill })
            #expect(after - before < 64 * 1024, "resident memory grew by \(after - before) KiB")
            hygiene.check()
        }
    }
}

/// The test process's resident memory.
enum ProcessInfoSnapshot {
    static func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
    }
}
