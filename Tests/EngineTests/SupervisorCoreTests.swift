import Glibc
import Testing

@testable import CorralEngine

/// The pure state machine, with no processes: inputs in, actions out.
@Suite("SupervisorCore")
struct SupervisorCoreTests {
    let t0 = ContinuousClock.now

    func core(
        workers: Int = 2, extras: Int = 0, readyOnExec: Bool = false, waitTimeout: Duration? = .seconds(10),
        initTimeout: Duration? = nil, policy: FailurePolicy = .stopAll,
        stopSignals: [Signal] = [.interrupt, .terminate], terminatingSignals: [Signal] = [],
        ignoredSignals: [Signal] = []
    ) -> SupervisorCore {
        let plans =
            Array(repeating: SupervisorCore.SlotPlan(kind: .worker, readyOnExec: readyOnExec), count: workers)
            + Array(repeating: SupervisorCore.SlotPlan(kind: .extra, readyOnExec: true), count: extras)
        return SupervisorCore(
            plans: plans, stopSignals: stopSignals,
            defaultStopSignal: stopSignals.contains(.terminate) ? .terminate : stopSignals[0],
            waitTimeout: waitTimeout, initTimeout: initTimeout, failurePolicy: policy,
            terminatingSignals: terminatingSignals, ignoredSignals: ignoredSignals)
    }

    @Test("a terminating signal that is not a stop signal stops with the default stop signal; repeats are acknowledged")
    func terminatingSignal() {
        var core = core(
            workers: 2, waitTimeout: .seconds(5), stopSignals: [.interrupt], terminatingSignals: [.terminate, .hangup],
            ignoredSignals: [Signal(rawValue: SIGTSTP)])
        startAll(&core)
        #expect(
            core.stopSignalReceived(Signal(rawValue: SIGTSTP), now: t0) == [
                .emit(.signalIgnored(Signal(rawValue: SIGTSTP)))
            ])
        #expect(core.stopSignalReceived(.user1, now: t0).isEmpty)
        let stop = core.stopSignalReceived(.terminate, now: t0)
        #expect(signals(stop) == [0: [.interrupt], 1: [.interrupt]])
        #expect(stop.contains(.emit(.stopping(.interrupt, cause: .signal(.terminate), deadline: t0 + .seconds(5)))))
        let again = core.stopSignalReceived(.interrupt, now: t0 + .seconds(1))
        #expect(again == [.emit(.stopRepeated(.interrupt, deadline: t0 + .seconds(5)))])
        _ = core.tick(now: t0 + .seconds(5))
        #expect(
            core.stopSignalReceived(.hangup, now: t0 + .seconds(6)) == [.emit(.stopRepeated(.hangup, deadline: nil))])
        _ = core.exited(slot: 0, .signaled(.kill, coreDumped: false), now: t0 + .seconds(6))
        _ = core.exited(slot: 1, .signaled(.kill, coreDumped: false), now: t0 + .seconds(6))
        #expect(core.report.cause == .signal(.terminate))
        #expect(core.report.exitStatus == SupervisorReport.exitChildrenKilled)
    }

    /// Spawns every slot as pid 100 + index and reports each worker ready.
    func startAll(_ core: inout SupervisorCore) {
        while let slot = core.slotToSpawn { _ = core.spawned(slot: slot, pid: pid_t(100 + slot), now: t0) }
        for slot in 0..<core.report.slots.count where core.state(ofSlot: slot) == .initializing {
            _ = core.notify(from: pid_t(100 + slot), NotifyMessage(ready: true), now: t0)
        }
    }

    func signals(_ actions: [SupervisorCore.Action]) -> [Int: [Signal]] {
        var sent: [Int: [Signal]] = [:]
        for case .signal(let slot, let signal) in actions { sent[slot, default: []].append(signal) }
        return sent
    }

    @Test("slots are spawned in order, initialize, and run on READY=1")
    func startUp() {
        var core = core(workers: 3)
        #expect(core.slotToSpawn == 0)
        let actions = core.spawned(slot: 0, pid: 100, now: t0)
        #expect(actions.contains(.emit(.spawned(slot: 0, pid: 100, kind: .worker))))
        #expect(core.state(ofSlot: 0) == .initializing)
        #expect(core.slotToSpawn == 1)
        _ = core.spawned(slot: 1, pid: 101, now: t0)
        _ = core.spawned(slot: 2, pid: 102, now: t0)
        #expect(core.slotToSpawn == nil)
        _ = core.notify(from: 100, NotifyMessage(ready: true), now: t0)
        _ = core.notify(from: 101, NotifyMessage(ready: true), now: t0)
        #expect(core.serverState == .starting)
        let last = core.notify(from: 102, NotifyMessage(ready: true), now: t0)
        #expect(last.contains(.emit(.stateChanged(slot: 2, .running))))
        #expect(last.contains(.emit(.serverStateChanged(.running))))
        #expect(core.serverState == .running)
    }

    @Test("the slots a first start may spawn ahead: the next ones in order, none once the stop began or for restarts")
    func firstStartsAhead() {
        var core = core(workers: 4)
        #expect(core.isFirstStart(0) && !core.isFirstStart(1))
        #expect(core.firstStart(after: 0) == 1 && core.firstStart(after: 2) == 3 && core.firstStart(after: 3) == nil)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        #expect(core.isFirstStart(1))
        #expect(core.firstStart(after: 0) == nil, "slot 0 has been spawned")
        #expect(core.firstStart(after: 1) == 2)
        _ = core.stopSignalReceived(.terminate, now: t0)
        #expect(!core.isFirstStart(1) && core.firstStart(after: 1) == nil, "nothing more starts once stopping")
    }

    @Test("a datagram from a process that is not a child changes nothing")
    func foreignNotify() {
        var core = core(workers: 1)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        #expect(core.notify(from: 999, NotifyMessage(ready: true, status: "hi"), now: t0).isEmpty)
        #expect(core.state(ofSlot: 0) == .initializing)
    }

    @Test("the first stop signal goes to every live child once; later ones send nothing and keep the deadline")
    func stopOnce() {
        var core = core(workers: 3)
        startAll(&core)
        let first = core.stopSignalReceived(.interrupt, now: t0)
        #expect(signals(first) == [0: [.interrupt], 1: [.interrupt], 2: [.interrupt]])
        #expect(first.contains(.emit(.stopping(.interrupt, cause: .signal(.interrupt), deadline: t0 + .seconds(10)))))
        #expect(core.nextDeadline == t0 + .seconds(10))
        let deadline = t0 + .seconds(10)
        #expect(
            core.stopSignalReceived(.terminate, now: t0 + .seconds(3)) == [
                .emit(.stopRepeated(.terminate, deadline: deadline))
            ])
        #expect(
            core.stopSignalReceived(.interrupt, now: t0 + .seconds(4)) == [
                .emit(.stopRepeated(.interrupt, deadline: deadline))
            ])
        #expect(core.nextDeadline == t0 + .seconds(10))
    }

    @Test("a signal outside the stop set does not stop the server")
    func nonStopSignal() {
        var core = core(workers: 1, stopSignals: [.user1])
        startAll(&core)
        #expect(core.stopSignalReceived(.terminate, now: t0).isEmpty)
        #expect(core.serverState == .running)
        #expect(signals(core.stopSignalReceived(.user1, now: t0)) == [0: [.user1]])
    }

    @Test("dying of the very stop signal it was sent is clean; the report maps to exit status 0")
    func cleanStop() {
        var core = core(workers: 2)
        startAll(&core)
        _ = core.stopSignalReceived(.terminate, now: t0)
        _ = core.exited(slot: 0, .exited(code: 0), now: t0)
        let last = core.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: t0)
        #expect(core.isStopped)
        #expect(last.contains(.emit(.serverStateChanged(.stopped))))
        // The final report waits for what the driver learns last: what outlived the run.
        let left = [SupervisorReport.LeftBehind(pid: 4242, command: "daemon")]
        let finish = core.finish(leftBehind: left)
        let report = core.report
        #expect(report.leftBehind == left)
        #expect(finish == [.emit(.stopped(report))])
        #expect(core.finish(leftBehind: []).isEmpty, "the report is final")
        #expect(report.slots[1].end?.origin == .supervisor(.forward))
        #expect(report.slots.allSatisfy { $0.end?.isClean == true })
        #expect(report.exitStatus == 0)
        #expect(report.stopSignal == .terminate)
    }

    @Test("an init failure stops everyone, and nothing is spawned after the stop began")
    func initFailureFailsFast() {
        var core = core(workers: 4)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = core.spawned(slot: 1, pid: 101, now: t0)
        let actions = core.exited(slot: 0, .exited(code: WorkerExitCode.initFailure), now: t0)
        #expect(signals(actions) == [1: [.terminate]])
        #expect(core.slotToSpawn == nil)
        _ = core.exited(slot: 1, .exited(code: 0), now: t0)
        #expect(core.isStopped)
        let report = core.report
        #expect(report.cause == .failure(slot: 0))
        #expect(report.slots[0].end?.failure == .initFailed(.exited(code: 3)))
        #expect(report.slots[2].pid == nil && report.slots[3].pid == nil)
        #expect(report.exitStatus == SupervisorReport.exitChildFailed)
    }

    @Test("an unexpected death while running stops the server; keep-running only reports it")
    func unexpectedDeath() {
        var failFast = core(workers: 2)
        startAll(&failFast)
        let actions = failFast.exited(slot: 1, .signaled(.segmentationFault, coreDumped: true), now: t0)
        #expect(signals(actions) == [0: [.terminate]])
        #expect(failFast.report.slots[1].end?.origin == .external)
        #expect(
            failFast.report.slots[1].end?.failure
                == .exitedUnexpectedly(.signaled(.segmentationFault, coreDumped: true)))

        var tolerant = core(workers: 2, policy: .keepRunning)
        startAll(&tolerant)
        #expect(signals(tolerant.exited(slot: 1, .exited(code: 7), now: t0)).isEmpty)
        #expect(tolerant.serverState == .running)
        _ = tolerant.exited(slot: 0, .exited(code: 0), now: t0)
        #expect(tolerant.isStopped)
        #expect(tolerant.report.cause == .allExited)
        #expect(tolerant.report.exitStatus == SupervisorReport.exitChildFailed)
    }

    @Test("after the wait timeout every live child's group is SIGKILLed, once, and it is reported as ours")
    func escalation() {
        var core = core(workers: 2, waitTimeout: .seconds(2))
        startAll(&core)
        _ = core.stopSignalReceived(.terminate, now: t0)
        _ = core.exited(slot: 0, .exited(code: 0), now: t0 + .seconds(1))
        #expect(core.tick(now: t0 + .milliseconds(1999)).isEmpty)
        let actions = core.tick(now: t0 + .seconds(2))
        #expect(actions.contains(.killGroup(slot: 1)))
        #expect(!actions.contains(.killGroup(slot: 0)))
        #expect(core.nextDeadline == nil)
        #expect(core.tick(now: t0 + .seconds(3)).isEmpty)
        _ = core.exited(slot: 1, .signaled(.kill, coreDumped: false), now: t0 + .seconds(2))
        let report = core.report
        #expect(report.slots[1].end?.origin == .supervisor(.timeout))
        #expect(report.slots[1].end?.failure == .killedAfterTimeout(.seconds(2)))
        #expect(report.exitStatus == SupervisorReport.exitChildrenKilled)
    }

    @Test("a group that outlives its process during a stop gets no second stop signal, then SIGKILL at the deadline")
    func lingeringGroupDuringStop() {
        var core = core(workers: 2, waitTimeout: .seconds(2))
        startAll(&core)
        let stop = core.stopSignalReceived(.terminate, now: t0)
        #expect(signals(stop) == [0: [.terminate], 1: [.terminate]])
        let ended = core.exited(slot: 0, .signaled(.terminate, coreDumped: false), groupRemains: true, now: t0)
        #expect(signals(ended).isEmpty, "the group already got the stop signal")
        _ = core.exited(slot: 1, .exited(code: 0), now: t0)
        #expect(!core.isStopped, "slot 0's group still runs")
        #expect(core.nextDeadline == t0 + .seconds(2))
        let kill = core.tick(now: t0 + .seconds(2))
        #expect(kill.contains(.killGroup(slot: 0)))
        #expect(!kill.contains(.killGroup(slot: 1)))
        let done = core.groupEnded(slot: 0, now: t0)
        #expect(done.contains(.emit(.serverStateChanged(.stopped))))
        #expect(core.report.slots[0].failure == .groupKilledAfterTimeout(.seconds(2)))
        #expect(core.report.exitStatus == SupervisorReport.exitChildrenKilled)
    }

    @Test("what remains of a group whose process ended while running gets the stop signal once, then SIGKILL")
    func lingeringGroupWhileRunning() {
        var core = core(workers: 2, waitTimeout: .seconds(3), policy: .keepRunning)
        startAll(&core)
        let ended = core.exited(slot: 0, .exited(code: 1), groupRemains: true, now: t0)
        #expect(signals(ended) == [0: [.terminate]])
        #expect(ended.contains(.emit(.signalSent(slot: 0, pid: 100, .terminate, .cleanup))))
        #expect(core.nextDeadline == t0 + .seconds(3))
        // The server's stop later does not signal that group again, and the group keeps its
        // own deadline (3 s from its process's end), earlier than the stop's (4 s).
        let stop = core.stopSignalReceived(.interrupt, now: t0 + .seconds(1))
        #expect(signals(stop) == [1: [.interrupt]])
        #expect(core.nextDeadline == t0 + .seconds(3))
        #expect(core.tick(now: t0 + .seconds(3)).contains(.killGroup(slot: 0)))
        _ = core.exited(slot: 1, .signaled(.interrupt, coreDumped: false), now: t0 + .seconds(1))
        #expect(!core.isStopped)
        #expect(core.groupEnded(slot: 0, now: t0).contains(.emit(.serverStateChanged(.stopped))))
        #expect(core.report.exitStatus == SupervisorReport.exitChildFailed)
    }

    @Test("a group lingering outside a stop is SIGKILLed at its own deadline")
    func lingeringGroupDeadline() {
        var core = core(workers: 1, extras: 1, waitTimeout: .seconds(1), policy: .keepRunning)
        startAll(&core)
        _ = core.exited(slot: 1, .exited(code: 0), groupRemains: true, now: t0)
        #expect(core.tick(now: t0 + .milliseconds(999)).isEmpty)
        #expect(core.tick(now: t0 + .seconds(1)).contains(.killGroup(slot: 1)))
        #expect(core.nextDeadline == nil)
        _ = core.groupEnded(slot: 1, now: t0)
        #expect(core.serverState == .running)
    }

    @Test("a process that dies of a signal an operator sent to it alone is not a failure: the others run on")
    func operatorSignal() {
        var core = core(workers: 3)
        startAll(&core)
        _ = core.command(.signal(.hangup, to: .slot(0)), now: t0)
        let hup = core.exited(slot: 0, .signaled(.hangup, coreDumped: false), now: t0)
        #expect(signals(hup).isEmpty, "fail-fast must not start")
        #expect(core.serverState == .running)
        _ = core.command(.forceKill(.slot(1)), now: t0)
        _ = core.exited(slot: 1, .signaled(.kill, coreDumped: false), now: t0)
        #expect(core.serverState == .running)
        let end = core.report.slots[1].end
        #expect(end?.isStoppedByOperator == true)
        #expect(end?.description == "stopped by operator (SIGKILL)")
        // A signal to every process (the q key) is a stop, not an operator's signal to one.
        _ = core.command(.signal(.terminate, to: .all), now: t0)
        _ = core.exited(slot: 2, .signaled(.terminate, coreDumped: false), now: t0)
        #expect(core.report.slots[2].end?.isStoppedByOperator == false)
        #expect(core.report.slots[2].end?.description.hasPrefix("killed by SIGTERM") == true)
        #expect(core.report.exitStatus == SupervisorReport.exitClean)
    }

    @Test("an end's text names its termination once")
    func endWording() {
        let end = SlotEnd(termination: .exited(code: 1), origin: nil, failure: .exitedUnexpectedly(.exited(code: 1)))
        #expect(end.description == "exited with code 1: ended while running, without being asked")
    }

    @Test("a SIGKILL the supervisor did not send is reported as external")
    func externalKill() {
        var core = core(workers: 1)
        startAll(&core)
        _ = core.stopSignalReceived(.terminate, now: t0)
        _ = core.exited(slot: 0, .signaled(.kill, coreDumped: false), now: t0)
        let end = core.report.slots[0].end
        #expect(end?.origin == .external)
        #expect(end?.description.contains("SIGKILL not sent by us: OOM killer?") == true)
        #expect(core.report.exitStatus == SupervisorReport.exitChildFailed)
    }

    @Test("waiting forever arms no deadline")
    func waitForever() {
        var core = core(workers: 1, waitTimeout: nil)
        startAll(&core)
        _ = core.stopSignalReceived(.terminate, now: t0)
        #expect(core.nextDeadline == nil)
        #expect(core.tick(now: t0 + .seconds(100_000)).isEmpty)
    }

    @Test("an init timeout fails the slot and stops the server")
    func initTimeout() {
        var core = core(workers: 2, initTimeout: .seconds(1))
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = core.spawned(slot: 1, pid: 101, now: t0)
        _ = core.notify(from: 100, NotifyMessage(ready: true), now: t0)
        #expect(core.nextDeadline == t0 + .seconds(1))
        let actions = core.tick(now: t0 + .seconds(1))
        #expect(actions.contains(.emit(.failed(slot: 1, .initTimedOut(.seconds(1))))))
        #expect(signals(actions) == [0: [.terminate], 1: [.terminate]])
        #expect(core.report.cause == .failure(slot: 1))
    }

    @Test("commands: a stop signal to all stops; to one slot it is only delivered; force-kill all ends the server")
    func commands() {
        var core = core(workers: 2)
        startAll(&core)
        let one = core.command(.signal(.terminate, to: .slot(1)), now: t0)
        #expect(signals(one) == [1: [.terminate]])
        #expect(core.serverState == .running)
        _ = core.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: t0)
        #expect(core.serverState == .running, "a child ended on the operator's request is not a failure")
        let all = core.command(.signal(.interrupt, to: .all), now: t0)
        #expect(signals(all) == [0: [.interrupt]])
        #expect(core.serverState == .stopping)
        let kill = core.command(.forceKill(.all), now: t0)
        #expect(kill.contains(.killGroup(slot: 0)))
        _ = core.exited(slot: 0, .signaled(.kill, coreDumped: false), now: t0)
        #expect(core.isStopped)
        #expect(core.report.slots[0].end?.failure == .forceKilled)
        #expect(core.report.exitStatus == SupervisorReport.exitChildrenKilled)
    }

    @Test("a spawn failure stops the children already started")
    func spawnFailure() {
        var core = core(workers: 3)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        let actions = core.spawnFailed(slot: 1, reason: "ENOENT", now: t0)
        #expect(signals(actions) == [0: [.terminate]])
        #expect(core.slotToSpawn == nil)
        _ = core.exited(slot: 0, .signaled(.terminate, coreDumped: false), now: t0)
        #expect(core.isStopped)
        #expect(core.report.cause == .spawnFailed(slot: 1))
    }

    @Test("extras that finish with exit 0 by themselves are not failures")
    func extraCompletes() {
        var core = core(workers: 1, extras: 1)
        startAll(&core)
        let actions = core.exited(slot: 1, .exited(code: 0), now: t0)
        #expect(signals(actions).isEmpty)
        #expect(core.report.slots[1].end?.isClean == true)
        #expect(core.serverState == .running)
    }

    @Test("a stop before anything was spawned ends the run at once")
    func stopBeforeSpawn() {
        var core = core(workers: 2)
        let actions = core.stopSignalReceived(.interrupt, now: t0)
        #expect(core.isStopped)
        #expect(core.slotToSpawn == nil)
        #expect(actions.contains(.emit(.serverStateChanged(.stopped))))
        #expect(core.finish(leftBehind: []) == [.emit(.stopped(core.report))])
        #expect(core.report.exitStatus == 0)
    }

    @Test("a signal an operator sends to every process is as intended as one sent to one: dying of it is no failure")
    func signalToAllIsIntended() {
        var core = core(workers: 2)
        startAll(&core)
        let sent = core.command(.signal(.hangup, to: .all), now: t0)
        #expect(signals(sent) == [0: [.hangup], 1: [.hangup]])
        let ended = core.exited(slot: 0, .signaled(.hangup, coreDumped: false), now: t0)
        #expect(!ended.contains(.emit(.serverStateChanged(.stopping))))
        #expect(core.report.slots[0].end?.isStoppedByOperator == true)
        #expect(core.report.slots[0].end?.failure == nil)
    }
}
