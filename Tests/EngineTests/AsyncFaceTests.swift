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

        @Test("a configuration that cannot work: the report throws and the stream ends")
        func invalidConfiguration() async throws {
            let handle = try Supervisor(SupervisorConfiguration(workers: 0, worker: .command(["true"]))).start()
            var count = 0
            for await _ in handle.events { count += 1 }
            #expect(count == 0)
            await #expect(throws: SupervisorError.self) { try await handle.report() }
        }
    }
}
