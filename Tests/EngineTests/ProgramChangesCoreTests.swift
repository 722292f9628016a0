import Glibc
import Testing

@testable import CorralEngine

/// A run of programs changed while it runs, in the pure core: scaling one program, reloading
/// some by name, a signal to a program, and the programs read again (added, removed, changed,
/// unchanged), with the rollback that puts a changed definition back.
@Suite("SupervisorCore program changes")
struct ProgramChangesCoreTests {
    let t0 = ContinuousClock.now

    static let web = Program("web", command: ["serve"], workers: 2)
    static let clock = Program("clock", command: ["tick"])

    /// `web` (2 processes) and `clock` (1), every process running at once.
    func runningCore(_ programs: [Program] = [web, clock]) -> (SupervisorCore, nextPid: pid_t) {
        var core = SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: programs.reduce(0) { $0 + $1.workers }, worker: .command(["serve"]),
                waitTimeout: .seconds(5), readyAfter: .zero, programs: programs))
        _ = core.begin(now: t0)
        var pid: pid_t = 100
        while let slot = core.slotToSpawn {
            _ = core.spawned(slot: slot, pid: pid, now: t0)
            pid += 1
        }
        return (core, pid)
    }

    /// Spawns every slot due, with pids from `pid` on; the slots spawned.
    func spawnDue(_ core: inout SupervisorCore, from pid: inout pid_t, now: ContinuousClock.Instant) -> [Int] {
        var spawned: [Int] = []
        while let slot = core.slotToSpawn {
            _ = core.spawned(slot: slot, pid: pid, now: now)
            spawned.append(slot)
            pid += 1
        }
        return spawned
    }

    func events(_ actions: [SupervisorCore.Action]) -> [EngineEvent] {
        actions.compactMap { if case .emit(let event) = $0 { event } else { nil } }
    }

    @Test("scaling one program adds slots named after the lowest free indices; down retires its highest")
    func scaleProgram() {
        var (core, pid) = runningCore()
        #expect(core.serverState == .running)
        let up = events(core.command(.scaleProgram("web", workers: 4), now: t0))
        #expect(up.contains(.slotAdded(slot: 3, ProcessName(program: "web", index: 2))))
        #expect(up.contains(.slotAdded(slot: 4, ProcessName(program: "web", index: 3))))
        #expect(up.contains(.scaled(workers: 4, program: "web")))
        #expect(spawnDue(&core, from: &pid, now: t0) == [3, 4])
        #expect(core.program(ofSlot: 4)?.count == 4, "web's processes are told the program's count")
        let down = core.command(.scaleProgram("web", workers: 1), now: t0)
        let stopped = down.compactMap { if case .signal(let slot, _) = $0 { slot } else { nil } }
        #expect(Set(stopped) == [1, 3, 4], "web.3, web.2 and web.1 retire; clock is untouched")
        #expect(events(down).contains(.scaled(workers: 1, program: "web")))
        #expect(core.state(ofSlot: 2) == .running)
    }

    @Test("a scale of a one-program run is its program's; with several programs it must name one")
    func scaleNeedsAProgram() {
        var (core, _) = runningCore()
        let refused = events(core.command(.scale(workers: 3), now: t0))
        #expect(
            refused.contains {
                if case .scaleRefused(_, let reason, _) = $0 { reason.contains("web=N") } else { false }
            })
        #expect(core.slotCount == 3)
        var (single, _) = runningCore([Self.web])
        #expect(events(single.command(.scale(workers: 3), now: t0)).contains(.scaled(workers: 3, program: "web")))
        let unknown = events(single.command(.scaleProgram("api", workers: 2), now: t0))
        #expect(
            unknown.contains {
                if case .scaleRefused(_, let reason, "api") = $0 { reason.contains("no program api") } else { false }
            })
    }

    @Test("reloading programs by name replaces only their processes, new before old")
    func reloadByName() {
        var (core, pid) = runningCore()
        let started = events(core.command(.reloadPrograms(["clock"]), now: t0))
        #expect(started.contains(.reload(.started(workers: 1))))
        #expect(spawnDue(&core, from: &pid, now: t0) == [2], "only clock's slot gets a new generation")
        let refused = events(core.command(.reloadPrograms(["api"]), now: t0))
        #expect(
            refused.contains {
                if case .reload(.refused(let reason)) = $0 { reason.contains("no program api") } else { false }
            })
    }

    @Test("a signal to a program reaches each of its processes and no other")
    func signalToProgram() {
        var (core, _) = runningCore()
        let actions = core.command(.signal(.user1, to: .program("web")), now: t0)
        let signalled = actions.compactMap { if case .signal(let slot, .user1) = $0 { slot } else { nil } }
        #expect(signalled == [0, 1])
        let killed = core.command(.forceKill(.program("clock")), now: t0)
        #expect(killed.contains(.killGroup(slot: 2)))
        #expect(!killed.contains(.killGroup(slot: 0)))
    }

    @Test(
        "programs read again: added ones start, removed ones stop, changed ones reload, unchanged ones keep their pids")
    func update() {
        var (core, pid) = runningCore([Self.web, Self.clock, Program("worker", command: ["work"])])
        var changedWorker = Program("worker", command: ["work", "--fast"])
        changedWorker.environment = ["MODE": "fast"]
        let actions = core.command(
            .update([Self.web, changedWorker, Program("api", command: ["api"], dependencies: [.init("web")])]), now: t0)
        let said = events(actions)
        #expect(
            said.first
                == .reload(
                    .programsRead(
                        ProgramChanges(added: ["api"], removed: ["clock"], changed: ["worker"], unchanged: ["web"]))))
        #expect(actions.contains(.signal(slot: 2, .terminate)), "clock gets the stop signal")
        #expect(said.contains(.signalSent(slot: 2, pid: 102, .terminate, .removed)))
        #expect(said.contains(.slotAdded(slot: 4, ProcessName(program: "api", index: 0))))
        #expect(said.contains(.reload(.started(workers: 1))), "worker alone is reloaded")
        let spawned = spawnDue(&core, from: &pid, now: t0 + .milliseconds(10))
        #expect(Set(spawned) == [3, 4], "worker's next generation and api's first process")
        #expect(core.program(ofSlot: 3)?.program == changedWorker, "the new generation runs the new definition")
        #expect(core.report.slots[0].pid == 100 && core.report.slots[1].pid == 101, "web is untouched")
        _ = core.exited(slot: 2, .signaled(.terminate, coreDumped: false), now: t0 + .milliseconds(20))
        #expect(core.serverState == .running, "a removed program's end is no failure")
        #expect(core.report.slots[2].failure == nil)
    }

    @Test("only the number of processes changed: the program is scaled, not reloaded")
    func updateScalesOnly() {
        var (core, _) = runningCore()
        var bigger = Self.web
        bigger.workers = 3
        let said = events(core.command(.update([bigger, Self.clock]), now: t0))
        #expect(said.contains(.scaled(workers: 3, program: "web")))
        #expect(!said.contains { if case .reload(.started) = $0 { true } else { false } })
    }

    @Test("a changed program whose new generation fails keeps its old processes and its old definition")
    func updateRollsBack() {
        var (core, pid) = runningCore()
        var changed = Program("clock", command: ["tick", "--broken"])
        changed.readiness = .notify
        _ = core.command(.update([Self.web, changed]), now: t0)
        #expect(spawnDue(&core, from: &pid, now: t0) == [2])
        let newPid = pid - 1
        let failed = events(core.exited(slot: 2, .exited(code: 1), now: t0 + .milliseconds(5)))
        #expect(failed.contains(.reinstated(slot: 2, pid: 102, generation: 0)))
        #expect(failed.contains { if case .reload(.rolledBack) = $0 { true } else { false } })
        #expect(core.program(ofSlot: 2)?.program == Self.clock, "the definition is the old one again")
        #expect(core.report.slots[2].pid == 102 && newPid != 102)
        let again = events(core.command(.update([Self.web, Self.clock]), now: t0 + .milliseconds(6)))
        #expect(again.first == .reload(.programsRead(ProgramChanges(unchanged: ["web", "clock"]))))
    }

    @Test("the programs are not read again during a reload")
    func updateDuringReload() {
        var (core, _) = runningCore()
        _ = core.command(.reloadPrograms(["web"]), now: t0)
        let said = events(core.command(.update([Self.web]), now: t0))
        #expect(said.count == 1)
        #expect(
            said.contains { if case .reload(.refused(let reason)) = $0 { reason.contains("under way") } else { false } }
        )
    }
}

/// Each program's own policies in the pure core: stop signals, wait timeout, restarts.
@Suite("SupervisorCore per-program policies")
struct ProgramPoliciesCoreTests {
    let t0 = ContinuousClock.now

    /// `web` (stops with SIGINT, 2 s to end, restarted always) and `clock` (the run's: SIGTERM,
    /// 10 s, no restart), both running.
    func runningCore() -> SupervisorCore {
        var web = Program("web", command: ["serve"], workers: 1)
        web.stopSignals = [.interrupt]
        web.waitTimeout = .seconds(2)
        web.restartPolicy = .always
        let programs = [web, Program("clock", command: ["tick"])]
        var core = SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: 2, worker: .command(["serve"]), stopSignals: [.interrupt, .terminate],
                waitTimeout: .seconds(10), readyAfter: .zero, programs: programs))
        _ = core.begin(now: t0)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        _ = core.spawned(slot: 1, pid: 101, now: t0)
        return core
    }

    @Test("a stop sends each program its own stop signal, and kills each at its own deadline")
    func stopSignalsAndDeadlines() {
        var core = runningCore()
        let stop = core.stopSignalReceived(.terminate, now: t0 + .seconds(1))
        #expect(stop.contains(.signal(slot: 0, .interrupt)), "web stops with its SIGINT")
        #expect(stop.contains(.signal(slot: 1, .terminate)), "clock gets the forwarded SIGTERM")
        #expect(core.nextDeadline == t0 + .seconds(3), "web's own deadline comes first")
        let early = core.tick(now: t0 + .seconds(3))
        #expect(early.contains(.killGroup(slot: 0)))
        #expect(!early.contains(.killGroup(slot: 1)), "clock keeps the run's 10 s")
        let late = core.tick(now: t0 + .seconds(11))
        #expect(late.contains(.killGroup(slot: 1)))
    }

    @Test("a program's restart policy is its own: web restarts, clock's crash stops the run")
    func restartPolicies() {
        var core = runningCore()
        let crashed = core.exited(slot: 0, .exited(code: 3), now: t0 + .seconds(2))
        #expect(crashed.contains { if case .emit(.restartScheduled(slot: 0, _, _, _, _)) = $0 { true } else { false } })
        #expect(core.serverState == .running)
        let clock = core.exited(slot: 1, .exited(code: 3), now: t0 + .seconds(2))
        #expect(clock.contains { if case .emit(.stopping) = $0 { true } else { false } })
    }

    @Test("a restart on request stops the process with its program's stop signal")
    func restartSignal() {
        var core = runningCore()
        #expect(core.command(.restart(slot: 0), now: t0).contains(.signal(slot: 0, .interrupt)))
    }
}

/// Programs read again that do not hold together change nothing.
@Suite("SupervisorCore program updates refused")
struct ProgramUpdateRefusedCoreTests {
    @Test("no programs, a name twice, a cycle: refused with the reason, nothing touched")
    func refused() {
        let t0 = ContinuousClock.now
        var core = SupervisorCore(
            configuration: SupervisorConfiguration(
                workers: 1, worker: .command(["serve"]), readyAfter: .zero,
                programs: [Program("web", command: ["serve"])]))
        _ = core.begin(now: t0)
        _ = core.spawned(slot: 0, pid: 100, now: t0)
        let cases: [([Program], String)] = [
            ([], "no programs"),
            ([Program("web", command: ["a"]), Program("web", command: ["b"])], "named twice"),
            (
                [
                    Program("a", command: ["a"], dependencies: [.init("b")]),
                    Program("b", command: ["b"], dependencies: [.init("a")]),
                ], "a dependency cycle"
            ),
        ]
        for (programs, reason) in cases {
            let said = core.command(.update(programs), now: t0)
            #expect(said.count == 1)
            #expect(
                said.contains {
                    if case .emit(.reload(.refused(let text))) = $0 { text.contains(reason) } else { false }
                },
                "\(said)")
        }
        #expect(core.slotCount == 1 && core.state(ofSlot: 0) == .running)
    }
}
