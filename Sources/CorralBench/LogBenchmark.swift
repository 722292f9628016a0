import CorralEngine
import CorralModel
import CorralTUI
import Foundation

/// `log`: the dashboard's log and resource columns at scale. A frame for 1,000 processes with a
/// full log (the default limits: 64 MiB in all), in the merged view, scrolled back and with a
/// search highlighted; a search over 100,000 kept lines; sampling /proc for 1,000 real processes
/// (sleeping command children of this benchmark) once, as the dashboard does each second; and
/// the memory a full log of 256 processes takes.
enum LogBenchmark {
    static func run(runs: Int) throws {
        // First, while the heap has not grown yet.
        memory()
        try frames(runs: runs)
        try search(runs: runs)
        try sampling(runs: runs)
    }

    /// A state for `processes` running workers whose log is filled to its limits.
    static func filled(processes: Int) -> DashboardState {
        let now = ContinuousClock.now
        var state = DashboardState(
            supervisorPid: 1, workers: processes, extras: 0, waitTimeout: .seconds(10), stopSignals: [.terminate],
            startedAt: now)
        for slot in 0..<processes {
            state.apply(.spawned(slot: slot, pid: pid_t(10_000 + slot), kind: .worker), now: now)
            state.apply(.stateChanged(slot: slot, .running), now: now)
        }
        var line = 0
        // Until every process's ring is at its share (the total over the processes).
        while state.logBook.totalBytes < LogBook.Limits().totalBytes - processes * 200 && line < 2_000_000 {
            state.apply(
                .output(slot: line % processes, .stdout, line: "GET /items/\(line) -> 200 in 3 ms from 127.0.0.1"),
                now: now)
            line += 1
        }
        return state
    }

    static func frames(runs: Int) throws {
        var state = filled(processes: 1000)
        var following = Samples()
        var scrolled = Samples()
        var searched = Samples()
        for _ in 0..<max(runs, 20) {
            let t0 = ContinuousClock.now
            _ = DashboardView.render(state, width: 200, height: 60, now: t0)
            let t1 = ContinuousClock.now
            following.add(milliseconds(t0, t1))
        }
        state.logPageSize = 40
        for _ in 0..<50 { _ = KeyBindings.handle(.pageUp, state: &state) }
        for _ in 0..<max(runs, 20) {
            let t0 = ContinuousClock.now
            _ = DashboardView.render(state, width: 200, height: 60, now: t0)
            scrolled.add(milliseconds(t0, ContinuousClock.now))
        }
        state.runSearch(try LogSearch("items/1"))
        for _ in 0..<max(runs, 20) {
            let t0 = ContinuousClock.now
            _ = DashboardView.render(state, width: 200, height: 60, now: t0)
            searched.add(milliseconds(t0, ContinuousClock.now))
        }
        emit([
            "scenario": "log-render", "processes": 1000, "size": "200x60", "kept_lines": state.logBook.count,
            "kept_mib": round3(Double(state.logBook.totalBytes) / 1_048_576), "following_ms": following.summary,
            "scrolled_back_2000_lines_ms": scrolled.summary, "search_highlighted_ms": searched.summary,
            "method": "DashboardView.render of 1,000 processes with the log at its default limits: pure, no terminal",
        ])
    }

    static func search(runs: Int) throws {
        var book = LogBook()
        for line in 0..<100_000 {
            book.append(slot: line % 100, stream: .stdout, text: "GET /items/\(line) -> 200 in 3 ms from 127.0.0.1")
        }
        var plain = Samples()
        var regex = Samples()
        var found = 0
        let pattern = try LogSearch("ITEMS/9999")
        let expression = try LogSearch("re:items/9+ ->")
        for _ in 0..<max(runs, 10) {
            let t0 = ContinuousClock.now
            found = book.search(slot: nil, pattern.matches).count
            let t1 = ContinuousClock.now
            _ = book.search(slot: nil, expression.matches)
            let t2 = ContinuousClock.now
            plain.add(milliseconds(t0, t1))
            regex.add(milliseconds(t1, t2))
        }
        emit([
            "scenario": "log-search", "kept_lines": book.count, "matches": found, "plain_ms": plain.summary,
            "regex_ms": regex.summary,
            "method": "LogBook.search over 100,000 kept lines of 100 processes: plain text ignoring case, and a regex",
        ])
    }

    static func sampling(runs: Int) throws {
        var children: [Process] = []
        defer {
            for child in children where child.isRunning { child.terminate() }
            for child in children { child.waitUntilExit() }
        }
        for _ in 0..<1000 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/sleep")
            child.arguments = ["60"]
            try child.run()
            children.append(child)
        }
        let pids = children.map(\.processIdentifier)
        var sampler = ProcessTreeSampler()
        var times = Samples()
        for _ in 0..<max(runs, 10) {
            let cpu0 = threadCPUMilliseconds()
            _ = sampler.sample(pids, now: .now)
            times.add(threadCPUMilliseconds() - cpu0)
        }
        emit([
            "scenario": "proc-sampling", "processes": 1000, "cpu_ms_per_sample": times.summary,
            "percent_of_a_core_at_1_hz": round3(times.median / 10),
            "method":
                "ProcessTreeSampler.sample with 1,000 sleeping children as roots (it reads 300 trees a call, in turns): CPU time of the sampling thread per call",
        ])
    }

    static func memory() {
        let before = procStatus()["VmRSS"] ?? 0
        let state = filled(processes: 256)
        let after = procStatus()["VmRSS"] ?? 0
        emit([
            "scenario": "log-memory", "processes": 256, "kept_lines": state.logBook.count,
            "kept_mib_accounted": round3(Double(state.logBook.totalBytes) / 1_048_576),
            "rss_growth_mib": round3(Double(after - before) / 1024),
            "method":
                "RSS of the benchmark before and after filling the log of 256 processes to the default limits (64 MiB in all)",
        ])
    }
}
