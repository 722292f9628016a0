import Glibc
import Testing

@testable import CorralEngine

/// The engine driven from Swift concurrency: a supervisor on its own thread, its events as an
/// `AsyncStream`, commands from any task.
extension RealProcesses {
    @Suite("The async face")
    struct AsyncFaceTests {
        static func sleepers(_ count: Int) -> SupervisorConfiguration {
            SupervisorConfiguration(workers: count, worker: .command(["sleep", "1000"]), waitTimeout: .seconds(10))
        }

        @Test("events arrive as an AsyncStream; a command sent from a task stops the server")
        func eventsAndCommands() async throws {
            let hygiene = ProcessHygiene()
            let handle = try Supervisor(Self.sleepers(3)).start()
            var running = Set<Int>()
            var seen: [EngineEvent] = []
            for await event in handle.events {
                seen.append(event)
                if case .stateChanged(let slot, .running, _) = event {
                    running.insert(slot)
                    if running.count == 3 { handle.send(.stop) }
                }
            }
            let report = try await handle.report()
            #expect(running == [0, 1, 2])
            guard case .stopped(let last)? = seen.last else {
                Issue.record("the stream did not end with stopped: \(String(describing: seen.last))")
                return
            }
            #expect(last == report)
            #expect(report.exitStatus == 0)
            #expect(report.slots.count == 3)
            for slot in report.slots {
                #expect(slot.end?.termination == .signaled(.terminate, coreDumped: false))
            }
            hygiene.check()
        }

        @Test("force-kill through the handle SIGKILLs every group; the report says so")
        func forceKill() async throws {
            let hygiene = ProcessHygiene()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sh", "-c", "trap '' TERM INT; echo up; while :; do sleep 1; done"]),
                waitTimeout: .seconds(30))
            let handle = try Supervisor(configuration).start()
            var up = 0
            for await event in handle.events {
                if case .output(_, .stdout, "up") = event {
                    up += 1
                    if up == 2 { handle.send(.forceKill(.all)) }
                }
            }
            let report = try await handle.report()
            #expect(up == 2)
            #expect(
                report.slots.map { $0.end?.termination }
                    == Array(repeating: .signaled(.kill, coreDumped: false), count: 2))
            hygiene.check()
        }

        @Test("a reader that does not keep up loses output lines past the limit, never a state change")
        func boundedOutput() async throws {
            let hygiene = ProcessHygiene()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sh", "-c", "seq 1 20000"]), waitTimeout: .seconds(10),
                failurePolicy: .keepRunning)
            let handle = try Supervisor(configuration).start(outputLimit: 100)
            // Nothing reads the events until the run is over.
            let report = try await handle.report()
            var lines = 0
            var exited = Set<Int>()
            var stopped = false
            for await event in handle.events {
                switch event {
                case .output: lines += 1
                case .exited(let slot, _, _, _): exited.insert(slot)
                case .stopped: stopped = true
                default: break
                }
            }
            #expect(lines == 100)
            #expect(handle.droppedOutputLines == 40_000 - 100)
            #expect(exited == [0, 1])
            #expect(stopped)
            // Workers that end unasked are failures, flood or not.
            #expect(report.slots.map { $0.end?.termination } == [.exited(code: 0), .exited(code: 0)])
            #expect(report.exitStatus == 1)
            hygiene.check()
        }

        @Test("a configuration that cannot work: start throws before anything starts")
        func invalidConfiguration() throws {
            let hygiene = ProcessHygiene()
            for configuration in [
                SupervisorConfiguration(workers: 0, worker: .command(["true"])),
                SupervisorConfiguration(workers: 1, worker: .command(["true"]), stopSignals: []),
            ] {
                #expect {
                    _ = try Supervisor(configuration).start()
                } throws: { error in
                    guard case SupervisorError.invalidConfiguration = error else { return false }
                    return true
                }
            }
            hygiene.check()
        }

        @Test("run { handle in }: leaving the body stops the server and waits for every child")
        func scopedRun() async throws {
            let hygiene = ProcessHygiene()
            let (pids, report) = try await Supervisor(Self.sleepers(2)).run { handle in
                var pids: [pid_t] = []
                for await event in handle.events {
                    if case .spawned(_, let pid, _, _) = event { pids.append(pid) }
                    if case .serverStateChanged(.running) = event { break }
                }
                return pids
            }
            #expect(pids.count == 2)
            #expect(report.exitStatus == 0)
            #expect(report.cause == .command(.terminate))
            for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "worker \(pid) outlived the run") }
            hygiene.check()
        }

        @Test("run { handle in }: a body that throws stops the server too, and its error comes out")
        func scopedRunThrows() async throws {
            struct Oops: Error {}
            let hygiene = ProcessHygiene()
            var pids: [pid_t] = []
            await #expect(throws: Oops.self) {
                _ = try await Supervisor(Self.sleepers(2)).run { handle in
                    for await event in handle.events {
                        if case .spawned(_, let pid, _, _) = event { pids.append(pid) }
                        if case .serverStateChanged(.running) = event { throw Oops() }
                    }
                }
            }
            #expect(pids.count == 2)
            for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "worker \(pid) outlived the run") }
            hygiene.check()
        }

        @Test("cancelling a task waiting in report() stops the run; the report of that stop comes back")
        func reportCancellation() async throws {
            let hygiene = ProcessHygiene()
            let handle = try Supervisor(Self.sleepers(2)).start()
            let waiter = Task { try await handle.report() }
            for await event in handle.events {
                if case .serverStateChanged(.running) = event { waiter.cancel() }
            }
            let report = try await waiter.value
            #expect(report.exitStatus == 0)
            #expect(report.cause == .command(.terminate))
            hygiene.check()
        }

        @Test("dropping the last reference to the handle stops the run")
        func droppedHandle() async throws {
            let hygiene = ProcessHygiene()
            var handle: SupervisorHandle? = try Supervisor(Self.sleepers(2)).start()
            guard let events = handle?.events else { return }
            var last: EngineEvent?
            for await event in events {
                last = event
                if case .serverStateChanged(.running) = event { handle = nil }
            }
            guard case .stopped(let report)? = last else {
                Issue.record("the run did not stop: \(String(describing: last))")
                return
            }
            #expect(report.cause == .command(.terminate))
            #expect(report.exitStatus == 0)
            hygiene.check()
        }

        @Test("events and commands print as sentences")
        func readableEvents() {
            let now = ContinuousClock.now
            #expect(
                EngineEvent.stopping(.terminate, cause: .signal(.interrupt), deadline: now + .seconds(10)).description
                    .hasPrefix("stopping with SIGTERM: SIGINT received; SIGKILL in "))
            #expect(
                EngineEvent.signalSent(slot: 1, pid: 42, .terminate, .forward).description
                    == "sent SIGTERM to slot 1 (pid 42): forwarded")
            #expect(EngineEvent.stateChanged(slot: 0, .running).description == "slot 0 running (generation 0)")
            #expect(SupervisorCommand.signal(.user1, to: .slot(2)).description == "signal SIGUSR1 to slot 2")
            #expect(!"\(EngineEvent.stopRepeated(.interrupt, deadline: now))".contains("Optional"))
        }
    }
}
