import Glibc
import Testing

@testable import CorralEngine

/// Programs in the pure core: dependency order, waiting, one-shots, a failed dependency.
@Suite("SupervisorCore programs")
struct ProgramsCoreTests {
    let t0 = ContinuousClock.now

    /// `web` (2 processes) waits for the one-shot `migrate` to complete successfully.
    func core(failurePolicy: FailurePolicy = .stopAll, condition: Program.Condition = .completedSuccessfully)
        -> SupervisorCore
    {
        let programs = [
            Program("web", command: ["serve"], workers: 2, dependencies: [.init("migrate", condition)]),
            Program("migrate", command: ["migrate"], oneshot: true),
        ]
        return SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: 3, worker: .command(["serve"]), waitTimeout: .seconds(5), failurePolicy: failurePolicy,
                readyAfter: .zero, programs: programs))
    }

    func failures(_ actions: [SupervisorCore.Action]) -> [Int: SlotFailure] {
        var found: [Int: SlotFailure] = [:]
        for case .emit(.failed(let slot, let failure)) in actions { found[slot] = failure }
        return found
    }

    @Test("a program waits, said so, until its dependency completed; then it starts")
    func dependencyOrder() {
        var core = core()
        let begun = core.begin(now: t0)
        #expect(begun.contains(.emit(.waiting(slot: 0, .condition("migrate to complete successfully")))))
        #expect(begun.contains(.emit(.waiting(slot: 1, .condition("migrate to complete successfully")))))
        #expect(core.slotToSpawn == 2, "migrate first, though it comes second in the file")
        _ = core.spawned(slot: 2, pid: 302, now: t0)
        #expect(core.slotToSpawn == nil, "web waits while migrate runs")
        #expect(core.serverState == .starting)
        let completed = core.exited(slot: 2, .exited(code: 0), now: t0 + .seconds(1))
        #expect(failures(completed).isEmpty, "a one-shot's exit 0 is no failure")
        #expect(core.state(ofSlot: 2) == .exited)
        #expect(core.slotToSpawn == 0)
        _ = core.spawned(slot: 0, pid: 300, now: t0 + .seconds(1))
        #expect(core.slotToSpawn == 1)
        let last = core.spawned(slot: 1, pid: 301, now: t0 + .seconds(1))
        #expect(last.contains(.emit(.serverStateChanged(.running))), "running: web runs, migrate completed")
        #expect(core.serverState == .running)
    }

    @Test("nothing starts ahead while a program waits; once all are released, the next slots in start order")
    func startsAhead() {
        var core = core()
        _ = core.begin(now: t0)
        #expect(core.isFirstStart(2))
        #expect(core.firstStart(after: 2) == nil, "web waits for migrate: its order is not known yet")
        _ = core.spawned(slot: 2, pid: 302, now: t0)
        _ = core.exited(slot: 2, .exited(code: 0), now: t0 + .seconds(1))
        #expect(core.isFirstStart(0))
        #expect(core.firstStart(after: 0) == 1 && core.firstStart(after: 1) == nil)

        let programs = [Program("web", command: ["serve"], workers: 2), Program("clock", command: ["tick"])]
        var free = SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: 3, worker: .command(["serve"]), waitTimeout: .seconds(5), programs: programs))
        _ = free.begin(now: t0)
        #expect(free.firstStart(after: 0) == 1 && free.firstStart(after: 1) == 2, "across programs, in file order")
    }

    @Test("a one-shot that fails stops the run under stop-all; its dependents never start")
    func failedDependencyStopAll() {
        var core = core()
        _ = core.begin(now: t0)
        _ = core.spawned(slot: 2, pid: 302, now: t0)
        let failed = core.exited(slot: 2, .exited(code: 3), now: t0 + .seconds(1))
        #expect(failed.contains { if case .emit(.stopping) = $0 { true } else { false } })
        #expect(core.slotToSpawn == nil)
        #expect(core.isStopped)
        #expect(core.report.exitStatus == 1)
    }

    @Test("with keep-running, a failed dependency fails its dependents without starting them")
    func failedDependencyKeepRunning() {
        var core = core(failurePolicy: .keepRunning)
        _ = core.begin(now: t0)
        _ = core.spawned(slot: 2, pid: 302, now: t0)
        let failed = core.exited(slot: 2, .exited(code: 3), now: t0 + .seconds(1))
        #expect(failures(failed)[0] == .dependencyFailed("migrate"))
        #expect(failures(failed)[1] == .dependencyFailed("migrate"))
        #expect(core.slotToSpawn == nil)
        #expect(core.isStopped)
        #expect(core.report.exitStatus == 1)
    }

    @Test("started: a dependent starts once its dependency's processes were started, not before")
    func startedCondition() {
        var core = core(condition: .started)
        _ = core.begin(now: t0)
        #expect(core.slotToSpawn == 2)
        _ = core.spawned(slot: 2, pid: 302, now: t0)
        #expect(core.slotToSpawn == 0, "migrate was started: web may start while it runs")
    }

    @Test("a run of one-shots alone ends when they all completed, exit status 0")
    func oneshotsOnly() {
        var core = SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: 2, worker: .command(["true"]),
                programs: [
                    Program("a", command: ["true"], oneshot: true),
                    Program("b", command: ["true"], dependencies: [.init("a", .completed)], oneshot: true),
                ]))
        _ = core.begin(now: t0)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        #expect(core.slotToSpawn == nil)
        _ = core.exited(slot: 0, .exited(code: 0), now: t0)
        _ = core.spawned(slot: 1, pid: 101, now: t0)
        _ = core.exited(slot: 1, .exited(code: 0), now: t0)
        #expect(core.isStopped)
        #expect(core.report.cause == .allCompleted)
        #expect(core.report.exitStatus == 0)
    }

    @Test("dependencies are checked: an unknown program and a cycle are refused")
    func checked() {
        let unknown = SupervisorConfiguration(
            workers: 1, worker: .command(["x"]),
            programs: [Program("web", command: ["x"], dependencies: [.init("db")])])
        #expect(throws: ConfigurationError.self) { try unknown.validate() }
        let cycle = SupervisorConfiguration(
            workers: 2, worker: .command(["x"]),
            programs: [
                Program("web", command: ["x"], dependencies: [.init("api")]),
                Program("api", command: ["x"], dependencies: [.init("web")]),
            ])
        #expect(cycle.dependencyCycle() == ["web", "api", "web"])
        #expect(throws: ConfigurationError.self) { try cycle.validate() }
    }

    @Test("the stop runs in reverse order: dependents first, a dependency once they have all ended, its own deadline")
    func reverseOrderStop() {
        var core = SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: 3, worker: .command(["x"]), waitTimeout: .seconds(5), readyAfter: .zero,
                programs: [
                    Program("db", command: ["x"]),
                    Program("web", command: ["x"], workers: 2, dependencies: [.init("db")]),
                ]))
        _ = core.begin(now: t0)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = core.spawned(slot: 1, pid: 101, now: t0)
        _ = core.spawned(slot: 2, pid: 102, now: t0)
        #expect(core.serverState == .running)
        let stop = core.stopSignalReceived(.terminate, now: t0 + .seconds(1))
        #expect(stop.contains(.signal(slot: 1, .terminate)) && stop.contains(.signal(slot: 2, .terminate)))
        #expect(!stop.contains(.signal(slot: 0, .terminate)), "db waits for web to end")
        // The first level's deadline passes: web is killed, db is untouched.
        let escalated = core.tick(now: t0 + .seconds(6))
        #expect(escalated.contains(.killGroup(slot: 1)) && !escalated.contains(.killGroup(slot: 0)))
        _ = core.exited(slot: 1, .signaled(.kill, coreDumped: false), now: t0 + .seconds(6))
        let last = core.exited(slot: 2, .signaled(.kill, coreDumped: false), now: t0 + .seconds(7))
        #expect(last.contains(.signal(slot: 0, .terminate)), "web has ended: db gets its stop signal")
        #expect(core.nextDeadline == t0 + .seconds(12), "with a deadline of its own")
        let done = core.exited(slot: 0, .signaled(.terminate, coreDumped: false), now: t0 + .seconds(8))
        #expect(done.contains(.emit(.serverStateChanged(.stopped))))
    }
}
