import Glibc
import Testing

@testable import CorralEngine

/// Health while running in the pure core, with an injected clock: periodic checks, the memory
/// limit, restarts for health that count toward giving up.
@Suite("SupervisorCore health")
struct HealthCoreTests {
    let t0 = ContinuousClock.now

    func core(workers: Int = 1, failures: Int = 3, maxRestarts: Int = 5, maxMemory: Int? = nil) -> SupervisorCore {
        var plan = SupervisorCore.SlotPlan(kind: .worker, readyOnExec: true)
        plan.healthChecked = maxMemory == nil
        return SupervisorCore(
            plans: Array(repeating: plan, count: workers), stopSignals: [.interrupt, .terminate],
            defaultStopSignal: .terminate, waitTimeout: .seconds(10), initTimeout: nil, failurePolicy: .stopAll,
            backoff: RestartBackoff(delay: .zero, maxRestarts: maxRestarts), jitter: { 0 },
            healthInterval: .seconds(10), healthFailures: failures, maxMemory: maxMemory)
    }

    func healthProbes(_ actions: [SupervisorCore.Action]) -> [Int] {
        actions.compactMap { if case .probe(let slot, _, .health) = $0 { slot } else { nil } }
    }

    /// Fails the health check of slot 0 once at `now` (it must be due).
    func fail(_ core: inout SupervisorCore, at now: ContinuousClock.Instant) -> [SupervisorCore.Action] {
        #expect(healthProbes(core.tick(now: now)) == [0])
        return core.probeFinished(
            slot: 0, generation: core.report.slots[0].generation, purpose: .health, ok: false,
            detail: "http://127.0.0.1:8000/health: HTTP 503", now: now)
    }

    @Test("a running process is checked every interval; a pass after failures is reported, passes alone are not")
    func periodicChecks() {
        var core = core()
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        #expect(core.nextDeadline == t0 + .seconds(10))
        #expect(healthProbes(core.tick(now: t0 + .seconds(9))).isEmpty)
        #expect(healthProbes(core.tick(now: t0 + .seconds(10))) == [0])
        #expect(core.nextDeadline == nil, "no second check while one is under way")
        #expect(
            core.probeFinished(slot: 0, generation: 0, purpose: .health, ok: true, detail: "", now: t0 + .seconds(10))
                .isEmpty)
        #expect(core.nextDeadline == t0 + .seconds(20))
        let failed = fail(&core, at: t0 + .seconds(20))
        #expect(
            failed == [
                .emit(
                    .health(
                        slot: 0, generation: 0, ok: false, failures: 1, detail: "http://127.0.0.1:8000/health: HTTP 503"
                    ))
            ])
        _ = core.tick(now: t0 + .seconds(30))
        let passed = core.probeFinished(
            slot: 0, generation: 0, purpose: .health, ok: true, detail: "", now: t0 + .seconds(30))
        #expect(passed == [.emit(.health(slot: 0, generation: 0, ok: true, failures: 0, detail: ""))])
        #expect(core.state(ofSlot: 0) == .running)
    }

    @Test("N failures in a row: unhealthy, the stop signal (reason unhealthy), then its next generation at once")
    func unhealthyRestart() {
        var core = core(failures: 2)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = fail(&core, at: t0 + .seconds(10))
        let second = fail(&core, at: t0 + .seconds(20))
        #expect(second.contains(.emit(.stateChanged(slot: 0, .unhealthy))))
        #expect(second.contains(.signal(slot: 0, .terminate)))
        #expect(second.contains(.emit(.signalSent(slot: 0, pid: 100, .terminate, .unhealthy))))
        #expect(core.nextDeadline == t0 + .seconds(30), "SIGKILL after the wait timeout")
        let ended = core.exited(slot: 0, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(21))
        #expect(
            ended.contains {
                if case .emit(.restartScheduled(0, 1, 1, _, let reason)) = $0 {
                    reason.hasPrefix("unhealthy")
                } else {
                    false
                }
            })
        #expect(core.report.slots[0].end?.failure == nil, "a health restart is not a failure")
        _ = core.tick(now: t0 + .seconds(21))
        #expect(core.slotToSpawn == 0)
        _ = core.spawned(slot: 0, pid: 101, now: t0 + .seconds(21))
        #expect(core.report.slots[0].restarts == 1)
        #expect(core.serverState == .running)
    }

    @Test("a process that does not end after its stop signal is SIGKILLed at the wait timeout")
    func unhealthyKilled() {
        var core = core(failures: 1)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = fail(&core, at: t0 + .seconds(10))
        #expect(core.tick(now: t0 + .seconds(20)).contains(.killGroup(slot: 0)))
    }

    @Test("health restarts count toward giving up: past --max-restarts the slot gave up and the server stops")
    func givesUp() {
        var core = core(failures: 1, maxRestarts: 1)
        var now = t0
        _ = core.spawned(slot: 0, pid: 100, now: now)
        now = now + .seconds(10)
        _ = fail(&core, at: now)
        _ = core.exited(slot: 0, .exited(code: 0), now: now)
        _ = core.tick(now: now)
        _ = core.spawned(slot: 0, pid: 101, now: now)
        now = now + .seconds(10)
        _ = fail(&core, at: now)
        let ended = core.exited(slot: 0, .exited(code: 0), now: now)
        #expect(ended.contains(.emit(.serverStateChanged(.stopping))))
        guard case .gaveUp(1, _, _)? = core.report.slots[0].end?.failure else {
            Issue.record("not given up: \(String(describing: core.report.slots[0].end))")
            return
        }
    }

    @Test("above the memory limit in two samples in a row: restarted with reason memory; one sample is not enough")
    func memoryLimit() {
        var core = core(maxMemory: 100 << 20)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        #expect(core.watchesMemory(slot: 0))
        let first = core.memorySampled(slot: 0, pid: 100, residentBytes: 200 << 20, now: t0 + .seconds(1))
        #expect(first.count == 1)
        #expect(core.memorySampled(slot: 0, pid: 100, residentBytes: 50 << 20, now: t0 + .seconds(2)).isEmpty)
        _ = core.memorySampled(slot: 0, pid: 100, residentBytes: 200 << 20, now: t0 + .seconds(3))
        #expect(core.memorySampled(slot: 0, pid: 999, residentBytes: 200 << 20, now: t0 + .seconds(4)).isEmpty)
        let second = core.memorySampled(slot: 0, pid: 100, residentBytes: 200 << 20, now: t0 + .seconds(4))
        #expect(second.contains(.emit(.signalSent(slot: 0, pid: 100, .terminate, .memory))))
        #expect(core.state(ofSlot: 0) == .unhealthy)
    }
}
