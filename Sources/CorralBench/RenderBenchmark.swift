import CorralEngine
import CorralTUI
import Foundation

/// `render`: folding 1,000 events and rendering one frame for 256 processes at 200×60 (pure,
/// no terminal), and the bytes ncurses writes for a frame in which one row changed.
enum RenderBenchmark {
    static func events(count: Int) -> [EngineEvent] {
        var events: [EngineEvent] = []
        for slot in 0..<256 {
            events.append(.spawned(slot: slot, pid: pid_t(10_000 + slot), kind: .worker))
            events.append(.stateChanged(slot: slot, .initializing))
            events.append(.stateChanged(slot: slot, .running))
        }
        var line = 0
        while events.count < count {
            events.append(.output(slot: line % 256, .stdout, line: "GET /items/\(line) -> 200 in 3 ms"))
            events.append(.status(slot: line % 256, text: "serving · \(line) requests"))
            line += 1
        }
        return Array(events.prefix(count))
    }

    static func run(iterations: Int) throws {
        let started = ContinuousClock.now
        let all = events(count: 1000)
        var fold = Samples()
        var render = Samples()
        var diff = Samples()
        var state = DashboardState(
            supervisorPid: 1, workers: 256, extras: 0, waitTimeout: .seconds(10), stopSignals: [.terminate],
            startedAt: started)
        for _ in 0..<iterations {
            var fresh = DashboardState(
                supervisorPid: 1, workers: 256, extras: 0, waitTimeout: .seconds(10), stopSignals: [.terminate],
                startedAt: started)
            let t0 = ContinuousClock.now
            for event in all { fresh.apply(event, now: t0) }
            let t1 = ContinuousClock.now
            let frame = DashboardView.render(fresh, width: 200, height: 60, now: t1)
            let t2 = ContinuousClock.now
            fresh.apply(.status(slot: 3, text: "changed"), now: t2)
            let next = DashboardView.render(fresh, width: 200, height: 60, now: t2)
            let t3 = ContinuousClock.now
            _ = ScreenDiff(from: frame, to: next)
            let t4 = ContinuousClock.now
            fold.add(milliseconds(t0, t1))
            render.add(milliseconds(t1, t2))
            diff.add(milliseconds(t3, t4))
            state = fresh
        }
        emit([
            "scenario": "render", "processes": 256, "size": "200x60", "runs": iterations,
            "fold_1000_events_ms": fold.summary, "render_frame_ms": render.summary, "diff_ms": diff.summary,
            "method": "DashboardState.apply x1000, DashboardView.render, ScreenDiff: pure, no terminal",
        ])
        try bytesPerFrame(state)
    }

    /// Draws two frames that differ in one row through ncurses into a file; the second frame's size.
    static func bytesPerFrame(_ state: DashboardState) throws {
        let path = NSTemporaryDirectory() + "corral-bench-frame-\(getpid())"
        let output = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
        let input = open("/dev/null", O_RDONLY)
        defer { unlink(path) }
        let backend = NcursesBackend(offscreenOutput: output, input: input, width: 200, height: 60, colors: true)
        try backend.start()
        var state = state
        let now = ContinuousClock.now
        backend.draw(DashboardView.render(state, width: 200, height: 60, now: now))
        let first = fileSize(path)
        state.apply(.status(slot: 3, text: "changed status text"), now: now)
        let cells = backend.draw(DashboardView.render(state, width: 200, height: 60, now: now))
        let second = fileSize(path) - first
        backend.stop()
        emit([
            "scenario": "render-bytes", "processes": 256, "size": "200x60", "first_frame_bytes": first,
            "one_row_change_bytes": second, "one_row_change_cells": cells,
            "method": "NcursesBackend drawing for xterm-256color into a file: bytes written by the second frame",
        ])
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }
}
