import Glibc
import Testing

@testable import CorralEngine

/// Readiness in the pure core, with an injected clock: a minimum uptime after exec, a line of
/// output, probes, and reloads judged by them.
@Suite("SupervisorCore readiness")
struct ReadinessCoreTests {
    let t0 = ContinuousClock.now

    func core(
        workers: Int = 2, readyOnExec: Bool = true, readyAfter: Duration = .seconds(1), probes: Bool = false,
        waitingFor: String? = nil, policy: FailurePolicy = .stopAll, readyTimeout: Duration? = .seconds(5)
    ) -> SupervisorCore {
        var plan = SupervisorCore.SlotPlan(kind: .worker, readyOnExec: readyOnExec)
        plan.readyAfter = readyAfter
        plan.probesReadiness = probes
        plan.waitingFor = waitingFor
        return SupervisorCore(
            plans: Array(repeating: plan, count: workers), stopSignals: [.interrupt, .terminate],
            defaultStopSignal: .terminate, waitTimeout: .seconds(10), initTimeout: nil, failurePolicy: policy,
            readyTimeout: readyTimeout, probeInterval: .milliseconds(100))
    }

    func spawnAll(_ core: inout SupervisorCore, at now: ContinuousClock.Instant) -> [SupervisorCore.Action] {
        var actions: [SupervisorCore.Action] = []
        while let slot = core.slotToSpawn { actions += core.spawned(slot: slot, pid: pid_t(100 + slot), now: now) }
        return actions
    }

    func probes(_ actions: [SupervisorCore.Action]) -> [Int] {
        actions.compactMap { if case .probe(let slot, _, .readiness) = $0 { slot } else { nil } }
    }

    @Test("with exec readiness a process runs only once it has stayed up for ready-after")
    func uptimeAfterExec() {
        var core = core()
        let started = spawnAll(&core, at: t0)
        #expect(core.state(ofSlot: 0) == .initializing)
        #expect(started.contains(.emit(.waiting(slot: 0, .uptime(.seconds(1))))))
        #expect(core.nextDeadline == t0 + .seconds(1))
        #expect(core.tick(now: t0 + .milliseconds(999)).isEmpty)
        #expect(core.serverState == .starting)
        let settled = core.tick(now: t0 + .seconds(1))
        #expect(settled.contains(.emit(.stateChanged(slot: 0, .running))))
        #expect(settled.contains(.emit(.serverStateChanged(.running))))
        #expect(core.nextDeadline == nil)
    }

    @Test("ready-after 0 with exec readiness runs at once, as before")
    func zeroUptime() {
        var core = core(readyAfter: .zero)
        let started = spawnAll(&core, at: t0)
        #expect(started.contains(.emit(.serverStateChanged(.running))))
        #expect(!started.contains { if case .emit(.waiting) = $0 { true } else { false } })
    }

    @Test("a process that ends before its ready-after uptime failed its init: fail-fast, not a crash")
    func diesWithinUptime() {
        var core = core()
        _ = spawnAll(&core, at: t0)
        let ended = core.exited(slot: 1, .exited(code: 0), now: t0 + .milliseconds(400))
        let end = core.report.slots[1].end
        #expect(end?.failure == .initFailed(.exited(code: 0)))
        #expect(ended.contains(.emit(.serverStateChanged(.stopping))))
        #expect(
            core.tick(now: t0 + .seconds(1)).allSatisfy {
                if case .emit(.stateChanged(_, .running, _)) = $0 { false } else { true }
            }, "the stopping slot is not made running")
    }

    @Test("a probe is asked at once, again every interval after a failure, and readiness met runs the slot")
    func probeLoop() {
        var core = core(workers: 1, readyOnExec: false, readyAfter: .zero, probes: true)
        let started = spawnAll(&core, at: t0)
        #expect(!started.contains { if case .emit(.waiting) = $0 { true } else { false } }, "the probe says it")
        #expect(core.nextDeadline == t0)
        #expect(probes(core.tick(now: t0)) == [0])
        #expect(core.nextDeadline == nil, "no second probe while one is under way")
        let failed = core.probeFinished(
            slot: 0, generation: 0, purpose: .readiness, ok: false, detail: "tcp:127.0.0.1:8000: connection refused",
            now: t0 + .milliseconds(5))
        #expect(failed == [.emit(.waiting(slot: 0, .condition("tcp:127.0.0.1:8000: connection refused")))])
        #expect(core.nextDeadline == t0 + .milliseconds(105))
        #expect(probes(core.tick(now: t0 + .milliseconds(50))).isEmpty)
        #expect(probes(core.tick(now: t0 + .milliseconds(105))) == [0])
        let same = core.probeFinished(
            slot: 0, generation: 0, purpose: .readiness, ok: false, detail: "tcp:127.0.0.1:8000: connection refused",
            now: t0 + .milliseconds(110))
        #expect(same.isEmpty, "the same reason is said once")
        _ = core.tick(now: t0 + .milliseconds(210))
        let ok = core.probeFinished(
            slot: 0, generation: 0, purpose: .readiness, ok: true, detail: "", now: t0 + .seconds(1))
        #expect(ok.contains(.emit(.stateChanged(slot: 0, .running))))
        #expect(core.nextDeadline == nil)
    }

    @Test("a probe's result for another generation, or after the process ended, is ignored")
    func staleProbe() {
        var core = core(workers: 1, readyOnExec: false, readyAfter: .zero, probes: true, policy: .keepRunning)
        _ = spawnAll(&core, at: t0)
        _ = core.tick(now: t0)
        #expect(core.probeFinished(slot: 0, generation: 1, purpose: .readiness, ok: true, detail: "", now: t0).isEmpty)
        _ = core.exited(slot: 0, .exited(code: 1), now: t0)
        #expect(core.probeFinished(slot: 0, generation: 0, purpose: .readiness, ok: true, detail: "", now: t0).isEmpty)
        #expect(core.nextDeadline == nil)
    }

    @Test("a readiness line is looked for only while the current process waits for it")
    func readinessLine() {
        var core = core(workers: 1, readyOnExec: false, readyAfter: .seconds(2), waitingFor: "log 'ready'")
        let started = spawnAll(&core, at: t0)
        #expect(started.contains(.emit(.waiting(slot: 0, .condition("log 'ready'")))))
        #expect(core.awaitsReadinessLine(slot: 0, pid: 100))
        #expect(!core.awaitsReadinessLine(slot: 0, pid: 999))
        #expect(core.readinessLineSeen(slot: 0, pid: 999, now: t0).isEmpty)
        let seen = core.readinessLineSeen(slot: 0, pid: 100, now: t0 + .seconds(1))
        #expect(seen == [.emit(.waiting(slot: 0, .uptime(.seconds(2))))])
        #expect(!core.awaitsReadinessLine(slot: 0, pid: 100))
        #expect(core.tick(now: t0 + .seconds(3)).contains(.emit(.stateChanged(slot: 0, .running))))
    }

    @Test("a reload stops no old process before its successor has been up for ready-after")
    func reloadWaitsForUptime() {
        var core = core(workers: 1)
        _ = spawnAll(&core, at: t0)
        _ = core.tick(now: t0 + .seconds(1))
        _ = core.command(.reload, now: t0 + .seconds(2))
        let spawned = core.spawned(slot: 0, pid: 200, now: t0 + .seconds(2))
        #expect(!spawned.contains { if case .signalOutgoing = $0 { true } else { false } })
        #expect(core.tick(now: t0 + .milliseconds(2900)).isEmpty)
        let settled = core.tick(now: t0 + .seconds(3))
        #expect(settled.contains(.signalOutgoing(slot: 0, pid: 100, .terminate)))
    }

    @Test("a reload's successor that dies within ready-after rolls back; the old process keeps serving")
    func reloadRollsBackOnEarlyDeath() {
        var core = core(workers: 2)
        _ = spawnAll(&core, at: t0)
        _ = core.tick(now: t0 + .seconds(1))
        _ = core.command(.reload, now: t0 + .seconds(2))
        _ = core.spawned(slot: 0, pid: 200, now: t0 + .seconds(2))
        let died = core.exited(slot: 0, .exited(code: 1), now: t0 + .milliseconds(2300))
        #expect(!died.contains { if case .signalOutgoing = $0 { true } else { false } })
        #expect(died.contains { if case .emit(.reload(.rolledBack(0, _, 0, _))) = $0 { true } else { false } })
        #expect(core.serverState == .running)
        #expect(core.report.slots.map(\.pid) == [100, 101])
        #expect(core.state(ofSlot: 0) == .running)
        #expect(core.slotToSpawn == nil, "nothing more starts")
    }
}
