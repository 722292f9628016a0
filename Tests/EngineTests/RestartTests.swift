import Foundation
import Glibc
import Testing

@testable import CorralEngine

/// Restart policies on real processes.
extension RealProcesses {
    @Suite("Restarts on real processes")
    struct RestartTests {
        /// A worker command: slot `crashing` ends with `code` the first `times` times it starts
        /// (counted in a file under `directory`), every other start runs until stopped.
        static func worker(directory: String, crashing: Int, code: Int, times: Int = 1) -> [String] {
            let script = """
                count=$(cat "\(directory)/starts.$CORRAL_PROCESS_INDEX" 2>/dev/null || echo 0)
                echo $((count + 1)) > "\(directory)/starts.$CORRAL_PROCESS_INDEX"
                echo "start $CORRAL_PROCESS_INDEX $((count + 1))"
                if [ "$CORRAL_PROCESS_INDEX" = \(crashing) ] && [ "$count" -lt \(times) ]; then exit \(code); fi
                exec sleep 1000
                """
            return ["sh", "-c", script]
        }

        func spawns(_ recorder: Recorder, slot: Int) -> [(pid: pid_t, generation: Int)] {
            recorder.events.compactMap {
                if case .spawned(slot, let pid, _, let generation) = $0 { return (pid, generation) }
                return nil
            }
        }

        @Test("on-failure: a crash is restarted in its slot with a new pid and generation 1; the others undisturbed")
        func crashRestarts() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            // Stopped once the restarted process has printed its line (it runs from exec on).
            let recorder = Recorder(steps: [
                .init(condition: .event { $0 == .output(slot: 1, .stdout, line: "start 1 2") }) { _ in [.stop] }
            ])
            let configuration = SupervisorConfiguration(
                workers: 3, worker: .command(Self.worker(directory: records.path, crashing: 1, code: 7)),
                waitTimeout: .seconds(5), restartPolicy: .onFailure, restartBackoff: RestartBackoff(delay: .zero),
                readyAfter: .zero)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            let restarted = spawns(recorder, slot: 1)
            #expect(restarted.map(\.generation) == [0, 1])
            #expect(Set(restarted.map(\.pid)).count == 2, "the restart has a new pid")
            #expect(
                recorder.events.contains {
                    if case .exited(1, _, let end, 0) = $0 { end.termination == .exited(code: 7) } else { false }
                })
            #expect(
                recorder.events.contains {
                    if case .restartScheduled(1, 1, 1, _, _) = $0 { true } else { false }
                })
            #expect(recorder.stateHistory(1).prefix(4) == [.running, .exited, .backoff, .running])
            for slot in [0, 2] {
                #expect(spawns(recorder, slot: slot).count == 1, "slot \(slot) was started again")
                #expect(recorder.signalsSent[slot] == [.terminate], "slot \(slot) was signalled before the stop")
            }
            #expect(recorder.output(1) == ["start 1 1", "start 1 2"])
            #expect(report.slots[1].restarts == 1 && report.slots[1].generation == 1)
            #expect(report.exitStatus == 0, "a restarted crash is not a failure: \(report)")
            hygiene.check()
        }

        @Test("a crash loop gives up: --max-restarts 2 means 3 starts, then exit status 1 and the slot named")
        func crashLoop() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            let recorder = Recorder()
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(Self.worker(directory: records.path, crashing: 0, code: 3, times: 100)),
                waitTimeout: .seconds(5), restartPolicy: .always,
                restartBackoff: RestartBackoff(delay: .zero, maxRestarts: 2), readyAfter: .zero)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(spawns(recorder, slot: 0).map(\.generation) == [0, 1, 2])
            #expect(report.exitStatus == SupervisorReport.exitChildFailed)
            #expect(report.slotsThatGaveUp == [0])
            #expect(report.cause == .failure(slot: 0))
            #expect(report.description.contains("gave up after 2 restarts in 60 s"), "\(report)")
            hygiene.check()
        }

        @Test("a Swift worker forked by the zygote is restarted by the zygote too, in its slot, as the same role")
        func swiftWorkerRestart() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            let recorder = Recorder()
            // Slot 1 crashes 100 ms after it runs, every generation: restarted once, then it gives up.
            let configuration = SupervisorConfiguration(
                workers: 2,
                worker: .swiftWorker(
                    executable: helperExecutable,
                    arguments: ["worker", "--record", records.path, "--crash", "1:exit7:100"]),
                waitTimeout: .seconds(5), restartPolicy: .onFailure,
                restartBackoff: RestartBackoff(delay: .zero, maxRestarts: 1))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(spawns(recorder, slot: 1).map(\.generation) == [0, 1])
            // Both generations ran as worker 1 and reached their body's ready point.
            #expect(records.lines(1).filter { $0 == "index=1" }.count == 2)
            #expect(records.lines(1).filter { $0 == "ready" }.count == 2)
            // Both generations are the zygote's children, not this process's.
            let parents = records.lines(1).filter { $0.hasPrefix("ppid=") }
            #expect(parents.count == 2 && Set(parents).count == 1 && parents.first != "ppid=\(getpid())", "\(parents)")
            #expect(report.slotsThatGaveUp == [1])
            #expect(report.exitStatus == SupervisorReport.exitChildFailed)
            hygiene.check()
        }

        @Test("restart on request: the stop signal to that slot alone (reason restart), then its next generation")
        func restartCommand() throws {
            let hygiene = ProcessHygiene()
            let recorder = Recorder(steps: [
                .init(condition: .running(2)) { _ in [.restart(slot: 1)] },
                .init(condition: .when { $0.events.contains(.stateChanged(slot: 1, .running, generation: 1)) }) {
                    _ in [.stop]
                },
            ])
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sleep", "1000"]), waitTimeout: .seconds(5))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            let restarted = spawns(recorder, slot: 1)
            #expect(restarted.map(\.generation) == [0, 1])
            let first = try #require(restarted.first?.pid)
            #expect(recorder.events.contains(.signalSent(slot: 1, pid: first, .terminate, .restart, generation: 0)))
            #expect(recorder.signalsSent[1] == [.terminate, .terminate], "one for the restart, one for the stop")
            #expect(recorder.signalsSent[0] == [.terminate], "slot 0 got only the stop")
            #expect(spawns(recorder, slot: 0).count == 1)
            #expect(report.exitStatus == 0, "\(report)")
            hygiene.check()
        }

        @Test("a restart of a process that ignores the stop signal: SIGKILL to its group after the wait timeout")
        func restartEscalates() throws {
            let hygiene = ProcessHygiene()
            let stubborn = ["sh", "-c", "trap '' TERM INT; echo trapped; while :; do sleep 0.05; done"]
            let recorder = Recorder(steps: [
                .init(condition: .event { $0 == .output(slot: 0, .stdout, line: "trapped") }) { _ in
                    [.restart(slot: 0)]
                },
                .init(condition: .when { $0.output(0).count == 2 }) { _ in [.forceKill(.all)] },
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(stubborn), waitTimeout: .milliseconds(500))
            _ = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            let generations = spawns(recorder, slot: 0)
            #expect(generations.map(\.generation) == [0, 1])
            let first = try #require(generations.first?.pid)
            #expect(recorder.events.contains(.signalSent(slot: 0, pid: first, .terminate, .restart, generation: 0)))
            #expect(recorder.events.contains(.signalSent(slot: 0, pid: first, .kill, .timeout, generation: 0)))
            hygiene.check()
        }

        @Test("scale up then down: new slots take the next indices, the highest retire with reason scale")
        func scaling() throws {
            let hygiene = ProcessHygiene()
            let script = "echo \"index $CORRAL_PROCESS_INDEX of $CORRAL_WORKER_COUNT\"; exec sleep 1000"
            let recorder = Recorder(steps: [
                .init(condition: .running(3)) { _ in [.scale(workers: 4)] },
                // Once both new workers have printed what they were told.
                .init(condition: .when { $0.output(3).count == 1 && $0.output(4).count == 1 }) { _ in
                    [.scale(workers: 1)]
                },
                .init(condition: .when { recorder in [1, 3, 4].allSatisfy { recorder.states[$0] == .exited } }) { _ in
                    [.stop]
                },
            ])
            let configuration = SupervisorConfiguration(
                workers: 2, worker: .command(["sh", "-c", script]), extras: [.command(["sleep", "1000"])],
                waitTimeout: .seconds(5))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(recorder.events.contains(.scaled(workers: 4)) && recorder.events.contains(.scaled(workers: 1)))
            // The extra keeps index 2, right after the first workers; the new workers are 3 and 4.
            #expect(spawns(recorder, slot: 2).count == 1)
            #expect(recorder.output(3) == ["index 3 of 4"])
            #expect(recorder.output(4) == ["index 4 of 4"])
            for slot in [4, 3, 1] {
                #expect(
                    recorder.events.contains {
                        if case .signalSent(slot, _, .terminate, .scale, _) = $0 { true } else { false }
                    }, "slot \(slot) did not retire")
            }
            #expect(recorder.signalsSent[0] == [.terminate], "slot 0 got only the stop")
            #expect(recorder.signalsSent[2] == [.terminate], "the extra got only the stop")
            #expect(report.slots.count == 5)
            #expect(report.exitStatus == 0, "retiring is not a failure: \(report)")
            hygiene.check()
        }

        @Test("a reload of Swift workers: new before old, forked by a new zygote exec'ed from the binary on disk")
        func swiftWorkerReload() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            let recorder = Recorder(steps: [
                .init(condition: .running(2)) { _ in [.reload] },
                .init(condition: .event { if case .reload(.done) = $0 { true } else { false } }) { _ in [.stop] },
            ])
            let configuration = SupervisorConfiguration(
                workers: 2,
                worker: .swiftWorker(executable: helperExecutable, arguments: ["worker", "--record", records.path]),
                waitTimeout: .seconds(5))
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(recorder.events.contains(.reload(.done(replaced: 2))))
            for slot in 0..<2 {
                #expect(spawns(recorder, slot: slot).map(\.generation) == [0, 1])
                // Each generation's parent is a zygote, and the second generation's is another one.
                let parents = records.lines(slot).filter { $0.hasPrefix("ppid=") }
                #expect(parents.count == 2 && Set(parents).count == 2, "\(parents)")
                #expect(!parents.contains("ppid=\(getpid())"), "\(parents)")
                // The old one stopped with the reload's signal, after its successor ran.
                #expect(records.lines(slot).filter { $0.hasPrefix("stop=") } == ["stop=SIGTERM", "stop=SIGTERM"])
            }
            #expect(report.exitStatus == 0, "\(report)")
            hygiene.check()
        }

        @Test("always: a worker that exits 0 unasked is restarted")
        func alwaysRestartsExitZero() throws {
            let hygiene = ProcessHygiene()
            let records = try RecordDirectory()
            let recorder = Recorder(steps: [
                .init(condition: .when { $0.events.contains(.stateChanged(slot: 0, .running, generation: 1)) }) {
                    _ in [.stop]
                }
            ])
            let configuration = SupervisorConfiguration(
                workers: 1, worker: .command(Self.worker(directory: records.path, crashing: 0, code: 0)),
                waitTimeout: .seconds(5), restartPolicy: .always, restartBackoff: RestartBackoff(delay: .zero),
                readyAfter: .zero)
            let report = try Supervisor(configuration).run(frontend: recorder)
            #expect(!recorder.timedOut)
            #expect(spawns(recorder, slot: 0).map(\.generation) == [0, 1])
            #expect(report.exitStatus == 0, "\(report)")
            hygiene.check()
        }
    }
}
