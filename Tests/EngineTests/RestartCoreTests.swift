import Glibc
import Testing

@testable import CorralEngine

/// Restart policies in the pure core, with an injected clock and jitter.
@Suite("SupervisorCore restarts")
struct RestartCoreTests {
    let t0 = ContinuousClock.now

    func core(
        workers: Int = 2, readyOnExec: Bool = true, policy: RestartPolicy, failurePolicy: FailurePolicy = .stopAll,
        backoff: RestartBackoff = RestartBackoff(), jitter: Double = 0
    ) -> SupervisorCore {
        SupervisorCore(
            plans: Array(repeating: .init(kind: .worker, readyOnExec: readyOnExec), count: workers),
            stopSignals: [.interrupt, .terminate], defaultStopSignal: .terminate, waitTimeout: .seconds(10),
            initTimeout: nil, failurePolicy: failurePolicy, restartPolicy: policy, backoff: backoff,
            jitter: { jitter })
    }

    /// Spawns every due slot as pid `base + slot`.
    func spawnDue(_ core: inout SupervisorCore, base: pid_t, now: ContinuousClock.Instant) -> [Int] {
        var spawned: [Int] = []
        while let slot = core.slotToSpawn {
            _ = core.spawned(slot: slot, pid: base + pid_t(slot), now: now)
            spawned.append(slot)
        }
        return spawned
    }

    func scheduled(_ actions: [SupervisorCore.Action]) -> [(slot: Int, generation: Int, attempt: Int, delay: Duration)]
    {
        actions.compactMap {
            if case .emit(.restartScheduled(let slot, let generation, let attempt, let delay, _)) = $0 {
                return (slot, generation, attempt, delay)
            }
            return nil
        }
    }

    @Test("backoff: 0.1 s, then doubling, capped; jitter stays within ±25 %")
    func backoffGrowth() {
        let backoff = RestartBackoff(delay: .milliseconds(100), maxDelay: .seconds(1))
        #expect(backoff.delay(attempt: 1, jitter: 0) == .milliseconds(100))
        #expect(backoff.delay(attempt: 2, jitter: 0) == .milliseconds(200))
        #expect(backoff.delay(attempt: 4, jitter: 0) == .milliseconds(800))
        #expect(backoff.delay(attempt: 5, jitter: 0) == .seconds(1))
        #expect(backoff.delay(attempt: 500, jitter: 0) == .seconds(1))
        #expect(backoff.delay(attempt: 1, jitter: 1) == .milliseconds(125))
        #expect(backoff.delay(attempt: 1, jitter: -1) == .milliseconds(75))
        #expect(backoff.delay(attempt: 9, jitter: 1) == .seconds(1), "jitter never passes the cap")
        for _ in 0..<200 {
            let delay = backoff.delay(attempt: 3, jitter: Double.random(in: -1...1))
            #expect(delay >= .milliseconds(300) && delay <= .milliseconds(500))
        }
    }

    @Test("a scale-down supersedes a restart asked for before it: the slot retires, never starts again")
    func retireAfterRestartRequest() {
        var core = core(policy: .no)
        _ = spawnDue(&core, base: 100, now: t0)
        let restart = core.command(.restart(slot: 1), now: t0 + .seconds(1))
        #expect(restart.contains(.signal(slot: 1, .terminate)))
        let scaled = core.command(.scale(workers: 1), now: t0 + .seconds(2))
        #expect(!scaled.contains(.signal(slot: 1, .terminate)), "one stop signal per process")
        let ended = core.exited(slot: 1, .exited(code: 0), now: t0 + .seconds(3))
        #expect(scheduled(ended).isEmpty, "a retired slot is not restarted")
        _ = core.tick(now: t0 + .seconds(4))
        #expect(core.slotToSpawn == nil)
        #expect(core.state(ofSlot: 1) == .exited)
        #expect(core.workerCount == 1)
    }

    @Test("a process restarted for its health that a scale-down retires is not started again")
    func retireUnhealthy() {
        var core = SupervisorCore(
            plans: Array(repeating: .init(kind: .worker, readyOnExec: true, healthChecked: true), count: 2),
            stopSignals: [.terminate], defaultStopSignal: .terminate, waitTimeout: .seconds(10), initTimeout: nil,
            failurePolicy: .stopAll, healthFailures: 1)
        _ = spawnDue(&core, base: 100, now: t0)
        let failed = core.probeFinished(
            slot: 1, generation: 0, purpose: .health, ok: false, detail: "refused", now: t0 + .seconds(1))
        #expect(failed.contains(.signal(slot: 1, .terminate)))
        _ = core.command(.scale(workers: 1), now: t0 + .seconds(2))
        let ended = core.exited(slot: 1, .exited(code: 0), now: t0 + .seconds(3))
        #expect(scheduled(ended).isEmpty)
        #expect(core.slotToSpawn == nil)
        #expect(core.serverState == .running)
    }

    @Test("a crash is restarted in its slot with the next generation; the other slots are untouched")
    func crashRestarts() {
        var core = core(policy: .onFailure)
        _ = spawnDue(&core, base: 100, now: t0)
        let crash = core.exited(slot: 1, .signaled(.segmentationFault, coreDumped: false), now: t0 + .seconds(1))
        #expect(!crash.contains { if case .signal = $0 { true } else { false } }, "nothing is stopped")
        #expect(scheduled(crash).map(\.generation) == [1])
        #expect(scheduled(crash).map(\.delay) == [.milliseconds(100)])
        #expect(core.state(ofSlot: 1) == .backoff)
        #expect(core.slotToSpawn == nil, "not before the delay")
        #expect(core.nextDeadline == t0 + .seconds(1) + .milliseconds(100))
        _ = core.tick(now: t0 + .seconds(1) + .milliseconds(100))
        #expect(core.slotToSpawn == 1)
        #expect(core.isRestart(1))
        let spawned = core.spawned(slot: 1, pid: 201, now: t0 + .seconds(2))
        #expect(spawned.contains(.emit(.spawned(slot: 1, pid: 201, kind: .worker, generation: 1))))
        #expect(core.report.slots[1].generation == 1)
        #expect(core.report.slots[1].restarts == 1)
        #expect(core.report.slots[0].generation == 0)
        #expect(core.state(ofSlot: 0) == .running)
        #expect(core.serverState == .running)
    }

    @Test("on-failure does not restart an exit 0; always does; an operator's stop is never restarted")
    func policies() {
        var onFailure = core(policy: .onFailure)
        _ = spawnDue(&onFailure, base: 100, now: t0)
        let clean = onFailure.exited(slot: 0, .exited(code: 0), now: t0 + .seconds(1))
        #expect(scheduled(clean).isEmpty)
        #expect(onFailure.serverState == .stopping, "an unasked exit 0 of a worker is still a failure: fail-fast")

        var always = core(policy: .always)
        _ = spawnDue(&always, base: 100, now: t0)
        #expect(scheduled(always.exited(slot: 0, .exited(code: 0), now: t0 + .seconds(1))).map(\.slot) == [0])

        var asked = core(policy: .always)
        _ = spawnDue(&asked, base: 100, now: t0)
        _ = asked.command(.signal(.terminate, to: .slot(1)), now: t0)
        let stopped = asked.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(1))
        #expect(scheduled(stopped).isEmpty)
        #expect(asked.state(ofSlot: 1) == .exited)
    }

    @Test("the streak grows while a generation dies young, and resets after it ran for the reset time")
    func streakReset() {
        var core = core(
            workers: 1, policy: .always,
            backoff: RestartBackoff(delay: .milliseconds(100), reset: .seconds(10), maxRestarts: 100))
        var now = t0
        _ = spawnDue(&core, base: 100, now: now)
        var delays: [Duration] = []
        for round in 1...3 {
            now = now + .seconds(1)
            delays += scheduled(core.exited(slot: 0, .exited(code: 1), now: now)).map(\.delay)
            now = now + .seconds(1)
            _ = core.tick(now: now)
            _ = spawnDue(&core, base: pid_t(100 * (round + 1)), now: now)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        now = now + .seconds(11)
        let afterLongRun = scheduled(core.exited(slot: 0, .exited(code: 1), now: now))
        #expect(afterLongRun.map(\.delay) == [.milliseconds(100)])
        #expect(afterLongRun.map(\.attempt) == [1])
    }

    @Test("--max-restarts 3: 4 starts in the window, the next unasked end gives up and fail-fast applies")
    func crashLoop() {
        var core = core(
            workers: 2, policy: .always, backoff: RestartBackoff(delay: .zero, maxRestarts: 3, window: .seconds(60)))
        var now = t0
        _ = spawnDue(&core, base: 100, now: now)
        var starts = 1
        for round in 1...3 {
            now = now + .seconds(1)
            #expect(scheduled(core.exited(slot: 0, .exited(code: 1), now: now)).count == 1)
            _ = core.tick(now: now)
            #expect(spawnDue(&core, base: pid_t(100 * (round + 1)), now: now) == [0])
            starts += 1
        }
        #expect(starts == 4)
        now = now + .seconds(1)
        let last = core.exited(slot: 0, .exited(code: 1), now: now)
        #expect(scheduled(last).isEmpty)
        #expect(core.serverState == .stopping)
        #expect(core.slotToSpawn == nil)
        _ = core.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: now)
        #expect(core.isStopped)
        #expect(core.report.exitStatus == SupervisorReport.exitChildFailed)
        #expect(core.report.slotsThatGaveUp == [0])
        guard case .gaveUp(let restarts, let window, _)? = core.report.slots[0].end?.failure else {
            Issue.record("not a give-up: \(String(describing: core.report.slots[0].end))")
            return
        }
        #expect(restarts == 3 && window == .seconds(60))
    }

    @Test("restarts outside the window do not count toward a crash loop")
    func window() {
        var core = core(
            workers: 1, policy: .always, backoff: RestartBackoff(delay: .zero, maxRestarts: 1, window: .seconds(5)))
        var now = t0
        _ = spawnDue(&core, base: 100, now: now)
        for round in 1...4 {
            now = now + .seconds(6)
            #expect(scheduled(core.exited(slot: 0, .exited(code: 1), now: now)).count == 1, "round \(round)")
            _ = core.tick(now: now)
            _ = spawnDue(&core, base: pid_t(100 * (round + 1)), now: now)
        }
        #expect(core.report.slots[0].restarts == 4)
    }

    @Test("with keep-running, a slot that gives up is failed and the others keep running")
    func giveUpKeepRunning() {
        var core = core(
            workers: 2, policy: .always, failurePolicy: .keepRunning,
            backoff: RestartBackoff(delay: .zero, maxRestarts: 0))
        _ = spawnDue(&core, base: 100, now: t0)
        _ = core.exited(slot: 0, .exited(code: 2), now: t0 + .seconds(1))
        #expect(core.serverState == .running)
        #expect(core.state(ofSlot: 0) == .exited)
        #expect(core.state(ofSlot: 1) == .running)
        #expect(core.slotToSpawn == nil)
    }

    @Test("a stop during backoff cancels the restart at once: nothing is spawned after it")
    func stopDuringBackoff() {
        var core = core(workers: 2, policy: .always, backoff: RestartBackoff(delay: .seconds(5)))
        _ = spawnDue(&core, base: 100, now: t0)
        _ = core.exited(slot: 0, .exited(code: 1), now: t0 + .seconds(1))
        #expect(core.state(ofSlot: 0) == .backoff)
        let stop = core.stopSignalReceived(.terminate, now: t0 + .seconds(2))
        #expect(stop.contains(.emit(.stateChanged(slot: 0, .exited, generation: 0))))
        _ = core.tick(now: t0 + .seconds(10))
        #expect(core.slotToSpawn == nil)
        _ = core.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(3))
        #expect(core.isStopped)
        #expect(core.report.exitStatus == SupervisorReport.exitClean, "a restarted crash is not a failure by itself")
    }

    @Test("init failure: fail-fast on the first start, retried with backoff for a restarted generation")
    func initFailures() {
        var first = core(workers: 2, readyOnExec: false, policy: .always)
        _ = spawnDue(&first, base: 100, now: t0)
        let broken = first.exited(slot: 0, .exited(code: WorkerExitCode.initFailure), now: t0 + .seconds(1))
        #expect(scheduled(broken).isEmpty)
        #expect(first.serverState == .stopping)

        var later = core(workers: 1, readyOnExec: false, policy: .always)
        _ = spawnDue(&later, base: 100, now: t0)
        _ = later.notify(from: 100, NotifyMessage(ready: true), now: t0)
        _ = later.exited(slot: 0, .exited(code: 1), now: t0 + .seconds(1))
        _ = later.tick(now: t0 + .seconds(2))
        _ = spawnDue(&later, base: 200, now: t0 + .seconds(2))
        #expect(later.state(ofSlot: 0) == .initializing)
        let retried = later.exited(slot: 0, .exited(code: WorkerExitCode.initFailure), now: t0 + .seconds(3))
        #expect(scheduled(retried).map(\.generation) == [2])
        #expect(later.serverState == .running)
    }

    @Test("a process that ends after it was running is a crash even while other slots still start")
    func crashWhileStarting() {
        var core = core(workers: 3, readyOnExec: true, policy: .onFailure)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        let crash = core.exited(slot: 0, .exited(code: 1), now: t0 + .milliseconds(10))
        #expect(scheduled(crash).count == 1)
        #expect(core.serverState == .starting)
        _ = core.tick(now: t0 + .seconds(1))
        #expect(core.slotToSpawn == 1, "the initial slots come first")
        _ = spawnDue(&core, base: 200, now: t0 + .seconds(1))
        #expect(core.serverState == .running)
        #expect(core.report.slots.map(\.generation) == [1, 0, 0])
    }

    @Test("scale up: new worker slots take the next index after every slot, extras included")
    func scaleUpIndices() {
        var core = SupervisorCore(
            plans: [
                .init(kind: .worker, readyOnExec: true), .init(kind: .worker, readyOnExec: true),
                .init(kind: .extra, readyOnExec: true),
            ],
            stopSignals: [.terminate], defaultStopSignal: .terminate, waitTimeout: .seconds(10), initTimeout: nil,
            failurePolicy: .stopAll)
        _ = spawnDue(&core, base: 100, now: t0)
        #expect(core.workerCount == 2)
        let scaled = core.command(.scale(workers: 4), now: t0)
        #expect(scaled.contains(.emit(.scaled(workers: 4))))
        #expect(core.workerCount == 4)
        #expect(spawnDue(&core, base: 100, now: t0) == [3, 4])
        #expect(core.report.slots.map(\.kind) == [.worker, .worker, .extra, .worker, .worker])
    }

    @Test("scale down: the highest workers retire with one stop signal each, SIGKILL at their deadline")
    func scaleDown() {
        var core = core(workers: 4, policy: .always)
        _ = spawnDue(&core, base: 100, now: t0)
        let retire = core.command(.scale(workers: 2), now: t0)
        #expect(retire.contains(.signal(slot: 3, .terminate)) && retire.contains(.signal(slot: 2, .terminate)))
        #expect(!retire.contains(.signal(slot: 1, .terminate)))
        #expect(retire.contains(.emit(.signalSent(slot: 3, pid: 103, .terminate, .scale))))
        #expect(core.nextDeadline == t0 + .seconds(10))
        _ = core.exited(slot: 3, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(1))
        let late = core.tick(now: t0 + .seconds(10))
        #expect(late.contains(.killGroup(slot: 2)))
        _ = core.exited(slot: 2, .signaled(.kill, coreDumped: false), now: t0 + .seconds(10))
        #expect(core.slotToSpawn == nil, "retired slots are not restarted, even with --restart always")
        #expect(core.serverState == .running)
        #expect(core.workerCount == 2)
        #expect(core.command(.scale(workers: 3), now: t0 + .seconds(11)).contains(.emit(.scaled(workers: 3))))
        #expect(core.slotToSpawn == 4, "never a retired index again")
    }

    @Test("scale down while starting: a slot not started yet never starts; the server still comes up")
    func scaleDownWhileStarting() {
        var core = core(workers: 4, policy: .no)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = core.command(.scale(workers: 1), now: t0)
        #expect(core.slotToSpawn == nil)
        #expect(core.serverState == .running)
    }

    @Test("restart on request of a slot in backoff starts it at once; of a live one, after its end")
    func requestedRestart() {
        var core = core(workers: 2, policy: .always, backoff: RestartBackoff(delay: .seconds(20)))
        _ = spawnDue(&core, base: 100, now: t0)
        _ = core.exited(slot: 0, .exited(code: 1), now: t0 + .seconds(1))
        #expect(core.slotToSpawn == nil)
        _ = core.command(.restart(slot: 0), now: t0 + .seconds(2))
        _ = core.tick(now: t0 + .seconds(2))
        #expect(core.slotToSpawn == 0)
        let asked = core.command(.restart(slot: 1), now: t0 + .seconds(2))
        #expect(asked.contains(.emit(.signalSent(slot: 1, pid: 101, .terminate, .restart))))
        let ended = core.exited(slot: 1, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(3))
        #expect(scheduled(ended).map(\.delay) == [.zero])
        #expect(scheduled(ended).map(\.attempt) == [0])
        _ = core.tick(now: t0 + .seconds(3))
        #expect(Set([core.slotToSpawn].compactMap { $0 }) == [0])
        _ = core.spawned(slot: 0, pid: 200, now: t0 + .seconds(3))
        #expect(core.slotToSpawn == 1)
        #expect(core.report.slots[1].restarts == 0, "not yet")
    }

    @Test("a restart that cannot be spawned backs off and retries under a policy, counting toward giving up")
    func restartSpawnFailure() {
        var core = core(workers: 2, policy: .always, backoff: RestartBackoff(delay: .zero, maxRestarts: 2))
        _ = spawnDue(&core, base: 100, now: t0)
        _ = core.exited(slot: 0, .exited(code: 1), now: t0 + .seconds(1))
        _ = core.tick(now: t0 + .seconds(1))
        #expect(core.slotToSpawn == 0)
        #expect(!core.spawnFailureIsFatal(slot: 0))
        let failed = core.spawnFailed(slot: 0, reason: "Too many open files", now: t0 + .seconds(1))
        #expect(scheduled(failed).map(\.slot) == [0], "backs off and retries")
        #expect(!failed.contains(.emit(.serverStateChanged(.stopping))))
        _ = core.tick(now: t0 + .seconds(2))
        let gaveUp = core.spawnFailed(slot: 0, reason: "Too many open files", now: t0 + .seconds(2))
        #expect(gaveUp.contains(.emit(.serverStateChanged(.stopping))), "two restarts in the window: it gave up")
        guard case .gaveUp(2, _, .spawnFailed?)? = core.report.slots[0].failure else {
            Issue.record("\(String(describing: core.report.slots[0].failure))")
            return
        }
        #expect(core.report.exitStatus == 1, "a failure, never the bad command line's 64")
    }

    @Test("a scale-up whose new slot cannot be spawned keeps the ones that run and says why")
    func scaleSpawnFailure() {
        var core = core(workers: 2, policy: .no)
        _ = spawnDue(&core, base: 100, now: t0)
        _ = core.command(.scale(workers: 4), now: t0)
        #expect(core.slotToSpawn == 2)
        _ = core.spawned(slot: 2, pid: 102, now: t0)
        #expect(!core.spawnFailureIsFatal(slot: 3))
        let failed = core.spawnFailed(slot: 3, reason: "Too many open files", now: t0)
        #expect(
            failed.contains(.emit(.scaleRefused(workers: 3, reason: "worker.3 could not start: Too many open files"))))
        #expect(!failed.contains { if case .signal = $0 { true } else { false } })
        #expect(core.serverState == .running)
        #expect(core.workerCount == 3)
        #expect(core.slotToSpawn == nil)
    }
}
