import CorralEngine
import CorralModel
import Glibc
import Testing

@testable import CorralTUI

/// What the dashboard says of readiness, health, rollbacks, restarts and retired slots.
@Suite("Dashboard: readiness, health and the truth after a rollback")
struct ReadinessViewTests {
    typealias F = DashboardFixtures

    func detail(_ state: DashboardState, _ slot: Int, at seconds: Double) -> String {
        state.rows[slot].statusText(now: F.at(seconds), readyTimeout: .seconds(30))
    }

    @Test("a starting worker says what it waits for: a line, a probe's reason, or its uptime so far")
    func waiting() {
        var state = F.running()
        state.apply(.spawned(slot: 1, pid: 5000, kind: .worker, generation: 1), now: F.at(10))
        state.apply(.stateChanged(slot: 1, .initializing, generation: 1), now: F.at(10))
        state.apply(.waiting(slot: 1, .condition("log 'Application startup complete'"), generation: 1), now: F.at(10))
        #expect(
            detail(state, 1, at: 12)
                == "waiting for log 'Application startup complete' · 2.0 s · rolled back in 28.0 s")
        state.apply(
            .waiting(slot: 1, .condition("http://127.0.0.1:8001/health: connection refused"), generation: 1),
            now: F.at(12))
        #expect(detail(state, 1, at: 13).contains("waiting for http://127.0.0.1:8001/health: connection refused ·"))
        state.apply(.waiting(slot: 1, .uptime(.seconds(1)), generation: 1), now: F.at(13))
        #expect(detail(state, 1, at: 13.4).hasPrefix("up 0.4 s of 1 s"))
    }

    @Test("'rolled back in' shows for a reload's new generation only, not after a crash restart")
    func rollbackCountdown() {
        var state = F.running()
        // A reload: the new generation starts beside the running process.
        state.apply(.spawned(slot: 0, pid: 5000, kind: .worker, generation: 1), now: F.at(10))
        state.apply(.stateChanged(slot: 0, .initializing, generation: 1), now: F.at(10))
        #expect(detail(state, 0, at: 12).contains("rolled back in 28.0 s"))
        // A crash restart: no rollback to count down to.
        let crash = SlotEnd(termination: .exited(code: 1), origin: nil, failure: .exitedUnexpectedly(.exited(code: 1)))
        state.apply(.exited(slot: 2, pid: 4123, crash), now: F.at(10))
        state.apply(.stateChanged(slot: 2, .backoff), now: F.at(10))
        state.apply(.spawned(slot: 2, pid: 5001, kind: .worker, generation: 1), now: F.at(10.5))
        state.apply(.stateChanged(slot: 2, .initializing, generation: 1), now: F.at(10.5))
        #expect(!detail(state, 2, at: 12).contains("rolled back"))
    }

    @Test("after a rollback the row is the old process again: its pid, generation, uptime and state")
    func reinstated() {
        var state = F.running()
        let before = state.rows[0]
        state.apply(.spawned(slot: 0, pid: 5000, kind: .worker, generation: 1), now: F.at(10))
        state.apply(.stateChanged(slot: 0, .initializing, generation: 1), now: F.at(10))
        let failed = SlotEnd(termination: .exited(code: 1), origin: nil, failure: .initFailed(.exited(code: 1)))
        state.apply(.exited(slot: 0, pid: 5000, failed, generation: 1), now: F.at(10.3))
        state.apply(.reinstated(slot: 0, pid: 4121, generation: 0), now: F.at(10.3))
        state.apply(.stateChanged(slot: 0, .running, generation: 0), now: F.at(10.3))
        #expect(state.rows[0].pid == 4121)
        #expect(state.rows[0].generation == 0)
        #expect(state.rows[0].spawnedAt == before.spawnedAt)
        #expect(state.rows[0].state == .running)
        #expect(state.rows[0].end == nil)
        #expect(state.runningCount == (5, 5))
    }

    @Test("crash evidence survives the restart: RESTARTS counts crashes apart, the previous end is kept")
    func crashEvidence() {
        var state = F.running()
        let end = SlotEnd(
            termination: .exited(code: 3), origin: nil, failure: .exitedUnexpectedly(.exited(code: 3)),
            lastLines: ["OSError: [Errno 98] Address already in use"])
        state.apply(.exited(slot: 1, pid: 4122, end), now: F.at(20))
        state.apply(.stateChanged(slot: 1, .backoff), now: F.at(20))
        state.apply(.spawned(slot: 1, pid: 5000, kind: .worker, generation: 1), now: F.at(20.2))
        state.apply(.stateChanged(slot: 1, .running, generation: 1), now: F.at(20.2))
        // A restart on request is not a crash.
        state.apply(.signalSent(slot: 1, pid: 5000, .terminate, .restart, generation: 1), now: F.at(30))
        state.apply(
            .exited(
                slot: 1, pid: 5000,
                SlotEnd(
                    termination: .signaled(.terminate, coreDumped: false), origin: .supervisor(.restart), failure: nil),
                generation: 1), now: F.at(30.1))
        state.apply(.spawned(slot: 1, pid: 5001, kind: .worker, generation: 2), now: F.at(30.1))
        state.apply(.stateChanged(slot: 1, .running, generation: 2), now: F.at(30.1))
        #expect(state.rows[1].restartsText == "2 (1 crash)")
        let lines = DetailView.lines(state.rows[1], state: state, now: F.at(40)).joined(separator: "\n")
        #expect(lines.contains("previous generation 1 (pid 5000) ended"), "\(lines)")
        #expect(lines.contains("SIGTERM"))
        // The crash's evidence was kept through the first restart.
        var afterCrash = F.running()
        afterCrash.apply(.exited(slot: 1, pid: 4122, end), now: F.at(20))
        afterCrash.apply(.spawned(slot: 1, pid: 5000, kind: .worker, generation: 1), now: F.at(20.2))
        afterCrash.apply(.stateChanged(slot: 1, .running, generation: 1), now: F.at(20.2))
        #expect(detail(afterCrash, 1, at: 25).hasPrefix("previous: exit 3"), "\(detail(afterCrash, 1, at: 25))")
        let crashLines = DetailView.lines(afterCrash.rows[1], state: afterCrash, now: F.at(25)).joined(separator: "\n")
        #expect(crashLines.contains("Address already in use"))
    }

    @Test("retired slots leave the running count at once and the table once ended")
    func retired() {
        var state = F.running()
        state.apply(.scaled(workers: 2), now: F.at(30))
        for slot in [2, 3] {
            state.apply(.signalSent(slot: slot, pid: pid_t(4121 + slot), .terminate, .scale), now: F.at(30))
        }
        #expect(state.runningCount == (3, 3))
        #expect(state.displayedRows.map(\.index) == [0, 1, 2, 3, 4])
        state.apply(
            .exited(slot: 3, pid: 4124, SlotEnd(termination: .exited(code: 0), origin: nil, failure: nil)),
            now: F.at(30.5))
        #expect(state.displayedRows.map(\.index) == [0, 1, 2, 4])
    }

    @Test("a failed health check shows in the status column until the process passes again")
    func health() {
        var state = F.running()
        state.apply(
            .health(slot: 0, generation: 0, ok: false, failures: 2, detail: "http://127.0.0.1:8000/health: HTTP 503"),
            now: F.at(10))
        #expect(detail(state, 0, at: 11).hasPrefix("health check failed (2 in a row): http://127.0.0.1:8000/health"))
        state.apply(.health(slot: 0, generation: 0, ok: true, failures: 0, detail: ""), now: F.at(12))
        #expect(!detail(state, 0, at: 12).contains("health"))
    }
}
