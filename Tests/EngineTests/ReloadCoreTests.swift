import Glibc
import Testing

@testable import CorralEngine

/// Rolling reloads in the pure core: new before old, batches, rollback.
@Suite("SupervisorCore reloads")
struct ReloadCoreTests {
    let t0 = ContinuousClock.now

    func core(workers: Int = 3, readyOnExec: Bool = false, batch: Int = 1, readyTimeout: Duration? = .seconds(5))
        -> SupervisorCore
    {
        SupervisorCore(
            plans: Array(repeating: .init(kind: .worker, readyOnExec: readyOnExec), count: workers),
            stopSignals: [.interrupt, .terminate], defaultStopSignal: .terminate, waitTimeout: .seconds(10),
            initTimeout: nil, failurePolicy: .stopAll, reloadBatch: batch, readyTimeout: readyTimeout)
    }

    /// Starts every slot as pid 100 + index, running.
    func start(_ core: inout SupervisorCore) {
        while let slot = core.slotToSpawn { _ = core.spawned(slot: slot, pid: pid_t(100 + slot), now: t0) }
        for slot in 0..<core.report.slots.count where core.state(ofSlot: slot) == .initializing {
            _ = core.notify(from: pid_t(100 + slot), NotifyMessage(ready: true), now: t0)
        }
    }

    func signalled(_ actions: [SupervisorCore.Action]) -> [Int] {
        actions.compactMap { if case .signalOutgoing(let slot, _, _) = $0 { slot } else { nil } }
    }

    @Test("new before old, one slot at a time: the old process is stopped only once its successor runs")
    func newBeforeOld() {
        var core = core()
        start(&core)
        let began = core.command(.reload, now: t0)
        #expect(began.contains(.emit(.reload(.started(workers: 3)))))
        #expect(core.slotToSpawn == 0)
        #expect(core.isReload(0))
        let spawned = core.spawned(slot: 0, pid: 200, now: t0)
        #expect(spawned.contains(.emit(.spawned(slot: 0, pid: 200, kind: .worker, generation: 1))))
        #expect(signalled(spawned).isEmpty, "the old one serves until the new one runs")
        #expect(core.outgoingPid(ofSlot: 0) == 100)
        #expect(core.slotToSpawn == nil, "one at a time")
        let ready = core.notify(from: 200, NotifyMessage(ready: true), now: t0 + .seconds(1))
        #expect(signalled(ready) == [0])
        #expect(ready.contains(.emit(.signalSent(slot: 0, pid: 100, .terminate, .reload, generation: 0))))
        #expect(core.slotToSpawn == 1)
        let oldEnded = core.outgoingExited(
            slot: 0, .signaled(.terminate, coreDumped: false), groupRemains: false, now: t0 + .seconds(1))
        guard case .emit(.exited(0, 100, let end, 0))? = oldEnded.first else {
            Issue.record("no exited event for the outgoing process: \(oldEnded)")
            return
        }
        #expect(end.isClean)
        for (slot, pid) in [(1, pid_t(201)), (2, 202)] {
            _ = core.spawned(slot: slot, pid: pid, now: t0 + .seconds(2))
            let running = core.notify(from: pid, NotifyMessage(ready: true), now: t0 + .seconds(2))
            _ = core.outgoingExited(slot: slot, .exited(code: 0), groupRemains: false, now: t0 + .seconds(2))
            if slot == 2 { #expect(running.contains(.emit(.reload(.done(replaced: 3))))) }
        }
        #expect(core.report.slots.map(\.generation) == [1, 1, 1])
        #expect(core.serverState == .running)
    }

    @Test("a new generation that fails its init rolls back: the old process keeps the slot, nothing more starts")
    func rollbackOnFailure() {
        var core = core(batch: 2)
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        _ = core.spawned(slot: 1, pid: 201, now: t0)
        #expect(core.slotToSpawn == nil)
        let failed = core.exited(
            slot: 0, .exited(code: WorkerExitCode.initFailure), lastLines: ["boom"], now: t0 + .seconds(1))
        #expect(failed.contains(.killGroup(slot: 1)), "the other new generation of the batch is stopped")
        #expect(!failed.contains(.killGroup(slot: 0)), "the failed one has ended: nothing is sent to it")
        #expect(failed.contains(.emit(.reinstated(slot: 0, pid: 100, generation: 0))))
        #expect(!failed.contains { if case .signal = $0 { true } else { false } }, "nothing else is stopped")
        #expect(core.serverState == .running, "a failed reload does not stop the server")
        #expect(core.state(ofSlot: 0) == .running)
        #expect(core.report.slots[0].pid == 100 && core.report.slots[0].generation == 0)
        let second = core.exited(slot: 1, .signaled(.kill, coreDumped: false), now: t0 + .seconds(1))
        #expect(
            second.contains {
                if case .emit(.reload(.rolledBack(0, _, 0, let end?))) = $0 { end.lastLines == ["boom"] } else { false }
            }, "the rollback carries how the failed generation ended")
        #expect(core.report.slots.map(\.pid) == [100, 101, 102])
        #expect(core.slotToSpawn == nil)
        #expect(core.command(.reload, now: t0 + .seconds(2)).contains(.emit(.reload(.started(workers: 3)))))
    }

    @Test("a new generation not running within the ready timeout is stopped and the reload rolls back")
    func readyTimeout() {
        var core = core(readyTimeout: .seconds(3))
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        #expect(core.nextDeadline == t0 + .seconds(3))
        let late = core.tick(now: t0 + .seconds(3))
        #expect(late.contains(.killGroup(slot: 0)))
        let ended = core.exited(slot: 0, .signaled(.kill, coreDumped: false), now: t0 + .seconds(3))
        #expect(
            ended.contains {
                if case .emit(.reload(.rolledBack(0, let reason, 0, _))) = $0 { reason.contains("3 s") } else { false }
            })
        #expect(core.report.slots[0].pid == 100)
    }

    @Test("a stop during a reload stops old and new processes alike, once each, and the reload ends")
    func stopDuringReload() {
        var core = core(workers: 2)
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        let stop = core.stopSignalReceived(.terminate, now: t0 + .seconds(1))
        #expect(stop.contains(.signal(slot: 0, .terminate)))
        #expect(stop.contains(.signalOutgoing(slot: 0, pid: 100, .terminate)))
        #expect(stop.contains(.signal(slot: 1, .terminate)))
        #expect(stop.contains { if case .emit(.reload(.rolledBack(nil, _, 0, _))) = $0 { true } else { false } })
        _ = core.exited(slot: 0, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(1))
        _ = core.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(1))
        #expect(!core.isStopped, "the outgoing process still runs")
        _ = core.outgoingExited(
            slot: 0, .signaled(.terminate, coreDumped: false), groupRemains: false, now: t0 + .seconds(1))
        #expect(core.isStopped)
    }

    @Test("the old process crashes while its successor starts: the reload goes on, the crash is a crash")
    func predecessorCrashes() {
        var core = core(workers: 2, readyTimeout: .seconds(1))
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        let crashed = core.outgoingExited(slot: 0, .exited(code: 1), groupRemains: false, now: t0 + .milliseconds(10))
        guard case .emit(.exited(0, 100, let end, 0))? = crashed.first else {
            Issue.record("no exited event for the old process: \(crashed)")
            return
        }
        #expect(end.failure == .exitedUnexpectedly(.exited(code: 1)), "never asked to stop: a crash")
        #expect(core.slotToSpawn == 1, "the reload goes on with the next slot")
        // Its successor is the slot's only process now: no ready timeout rolls it back.
        #expect(!core.tick(now: t0 + .seconds(2)).contains(.killGroup(slot: 0)))
        _ = core.notify(from: 200, NotifyMessage(ready: true), now: t0 + .seconds(2))
        #expect(core.state(ofSlot: 0) == .running)
        _ = core.spawned(slot: 1, pid: 201, now: t0 + .seconds(2))
        let done = core.notify(from: 201, NotifyMessage(ready: true), now: t0 + .seconds(2))
        #expect(done.contains(.emit(.reload(.done(replaced: 2)))))
        _ = core.outgoingExited(slot: 1, .exited(code: 0), groupRemains: false, now: t0 + .seconds(2))
        #expect(core.command(.reload, now: t0 + .seconds(3)).contains(.emit(.reload(.started(workers: 2)))))
        #expect(core.serverState == .running)
    }

    @Test("the old process crashes, then its successor fails its init: a crash of the slot, fail-fast applies")
    func predecessorGoneFirst() {
        var core = core(workers: 2)
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        _ = core.outgoingExited(slot: 0, .exited(code: 1), groupRemains: false, now: t0 + .milliseconds(10))
        let failed = core.exited(slot: 0, .exited(code: 3), now: t0 + .seconds(1))
        // Nothing serves in that slot any more: its failure is a failure (fail-fast here).
        #expect(core.serverState == .stopping)
        #expect(failed.contains { if case .emit(.reload(.rolledBack(nil, _, _, _))) = $0 { true } else { false } })
    }

    @Test("a new generation that cannot be spawned rolls back without touching the old, serving process")
    func spawnFailureRollsBack() {
        var core = core(workers: 3, batch: 2)
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        #expect(core.isReload(1))
        let failed = core.reloadSpawnFailed(slot: 1, reason: "No such file or directory", now: t0)
        #expect(failed.contains(.killGroup(slot: 0)), "the rest of the batch is stopped")
        #expect(!failed.contains(.killGroup(slot: 1)), "the old process of the failed slot is never touched")
        #expect(!failed.contains { if case .signal(1, _) = $0 { true } else { false } })
        _ = core.exited(slot: 0, .signaled(.kill, coreDumped: false), now: t0)
        #expect(core.report.slots.map(\.pid) == [100, 101, 102])
        #expect(core.serverState == .running)
        #expect(core.report.slots.allSatisfy { $0.failure == nil })
    }

    @Test("a scale asked during a reload is refused with its reason, not dropped")
    func scaleDuringReload() {
        var core = SupervisorCore(
            plans: Array(repeating: .init(kind: .worker, readyOnExec: false), count: 2),
            stopSignals: [.interrupt, .terminate], defaultStopSignal: .terminate, waitTimeout: .seconds(10),
            initTimeout: nil, failurePolicy: .stopAll, commandSignals: [Signal(rawValue: SIGTTIN): .scaleUp])
        start(&core)
        _ = core.command(.reload, now: t0)
        let refused = core.commandSignalReceived(Signal(rawValue: SIGTTIN), sentByProcess: true, now: t0)
        #expect(
            refused == [
                .emit(.scaleRefused(workers: 2, reason: "a reload is under way: scale to 3 once it is done"))
            ])
        #expect(
            core.command(.scale(workers: 3), now: t0) == [
                .emit(.scaleRefused(workers: 2, reason: "a reload is under way: scale to 3 once it is done"))
            ])
    }

    @Test("during a reload a signal to a slot reaches its serving (old) process; a generation chooses")
    func signalDuringReload() {
        var core = core(workers: 2)
        start(&core)
        _ = core.command(.reload, now: t0)
        _ = core.spawned(slot: 0, pid: 200, now: t0)
        let serving = core.command(.signal(.user1, to: .slot(0)), now: t0)
        #expect(
            serving == [
                .signalOutgoing(slot: 0, pid: 100, .user1),
                .emit(.signalSent(slot: 0, pid: 100, .user1, .command, generation: 0)),
            ])
        let incoming = core.command(.signal(.user1, to: .process(slot: 0, generation: 1)), now: t0)
        #expect(incoming.contains(.signal(slot: 0, .user1)))
        #expect(core.command(.signal(.user1, to: .process(slot: 0, generation: 7)), now: t0).isEmpty)
        // The operator's signal does not count as the reload's stop: the old one still gets it.
        let ready = core.notify(from: 200, NotifyMessage(ready: true), now: t0 + .seconds(1))
        #expect(ready.contains(.signalOutgoing(slot: 0, pid: 100, .terminate)))
    }
}
