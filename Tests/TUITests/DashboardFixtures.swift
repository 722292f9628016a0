import CorralEngine
import CorralModel
import Foundation
import Testing

@testable import CorralTUI

/// Dashboard states built from engine events at fixed times, so screens render the same in every run.
enum DashboardFixtures {
    static let t0 = ContinuousClock.now

    static func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    /// Four workers and a ticker extra, all running, with some output.
    static func running(colors: Bool = true) -> DashboardState {
        var state = DashboardState(
            supervisorPid: 4100, workers: 4, extras: 1, waitTimeout: .seconds(10),
            stopSignals: [.interrupt, .terminate], colors: colors, startedAt: t0)
        for slot in 0..<5 {
            state.apply(.spawned(slot: slot, pid: pid_t(4121 + slot), kind: slot < 4 ? .worker : .extra), now: at(0.1))
            state.apply(.stateChanged(slot: slot, slot < 4 ? .initializing : .running), now: at(0.1))
        }
        for slot in 0..<4 {
            state.apply(.status(slot: slot, text: "serving on 127.0.0.1:8080 · \(slot * 3) requests"), now: at(0.7))
            state.apply(.stateChanged(slot: slot, .running), now: at(0.7))
        }
        state.apply(.serverStateChanged(.running), now: at(0.7))
        for second in 1...3 {
            state.apply(.output(slot: 4, .stdout, line: "tick \(second)"), now: at(Double(second)))
        }
        state.apply(.output(slot: 2, .stdout, line: "GET / 200 from 127.0.0.1"), now: at(3.5))
        state.apply(.output(slot: 1, .stderr, line: "warning: slow client"), now: at(3.6))
        state.server.updateUsage(
            Dictionary(
                uniqueKeysWithValues: (0..<5).map { slot in
                    (
                        slot,
                        ProcessTreeSampler.Usage(
                            cpuPercent: [0.4, 97.5, 12.0, 0.0, 0.1][slot],
                            residentBytes: [24, 180, 31, 22, 4][slot] << 20,
                            processes: 1, isStopped: false)
                    )
                }))
        return state
    }

    /// SIGTERM was sent at 60 s; workers 0 and 4 have ended, the rest hold the stop up.
    static func stopping() -> DashboardState {
        var state = running()
        state.apply(.serverStateChanged(.stopping), now: at(60))
        state.apply(.stopping(.terminate, cause: .signal(.terminate), deadline: at(70)), now: at(60))
        for slot in 0..<5 {
            state.apply(.signalSent(slot: slot, pid: pid_t(4121 + slot), .terminate, .forward), now: at(60))
            state.apply(.stateChanged(slot: slot, .stopping), now: at(60))
        }
        state.apply(.stateChanged(slot: 0, .exited), now: at(60.4))
        state.apply(
            .exited(slot: 0, pid: 4121, SlotEnd(termination: .exited(code: 0), origin: nil, failure: nil)),
            now: at(60.4))
        state.apply(.stateChanged(slot: 4, .exited), now: at(60.2))
        state.apply(
            .exited(
                slot: 4, pid: 4125,
                SlotEnd(
                    termination: .signaled(.terminate, coreDumped: false), origin: .supervisor(.forward), failure: nil)),
            now: at(60.2))
        return state
    }

    /// After the timeout: one worker SIGKILLed by corral, one killed by someone else, one that failed init.
    static func stopped() -> DashboardState {
        var state = stopping()
        state.apply(.signalSent(slot: 3, pid: 4124, .kill, .timeout), now: at(70))
        state.apply(.stateChanged(slot: 3, .exited), now: at(70))
        state.apply(
            .exited(
                slot: 3, pid: 4124,
                SlotEnd(
                    termination: .signaled(.kill, coreDumped: false), origin: .supervisor(.timeout),
                    failure: .killedAfterTimeout(.seconds(10)))), now: at(70))
        state.apply(.stateChanged(slot: 1, .exited), now: at(62))
        state.apply(
            .exited(
                slot: 1, pid: 4122,
                SlotEnd(
                    termination: .signaled(.kill, coreDumped: false), origin: .external,
                    failure: .shutdownFailed(.signaled(.kill, coreDumped: false)))), now: at(62))
        state.apply(.stateChanged(slot: 2, .exited), now: at(61))
        state.apply(
            .exited(
                slot: 2, pid: 4123,
                SlotEnd(termination: .exited(code: 4), origin: nil, failure: .shutdownFailed(.exited(code: 4)))),
            now: at(61))
        state.apply(.serverStateChanged(.stopped), now: at(70))
        return state
    }
}

/// Compares a rendered screen with `Golden/<name>.txt`; `UPDATE_GOLDEN=1` rewrites the file.
func expectGolden(
    _ screen: ScreenBuffer, _ name: String, filePath: String = #filePath,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let url = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).txt")
    let actual = screen.text + "\n"
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        Issue.record("missing golden file \(name).txt; run with UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
        return
    }
    #expect(actual == expected, "screen \(name) differs from its golden file", sourceLocation: sourceLocation)
}
