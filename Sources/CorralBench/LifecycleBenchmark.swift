import CorralEngine
import Foundation
import Logging

/// `start` / `stop` (Swift workers) and `start-command` / `stop-command` (a C program that sends
/// READY=1): from the run call until every worker is running; from SIGTERM to the supervisor
/// until the run call has returned with every child reaped.
enum LifecycleBenchmark {
    /// Records when the server is running, then sends SIGTERM to this process (the supervisor).
    final class Stopwatch: Frontend {
        var runningAt: ContinuousClock.Instant?
        var signalledAt: ContinuousClock.Instant?
        /// The supervisor thread's CPU time when everything ran and when the stop began.
        var cpuAtRunning = 0.0
        var cpuAtSignal = 0.0
        /// Called once everything runs, before the SIGTERM (the idle and memory probes).
        var whenRunning: ((Stopwatch) -> Void)?

        func handle(_ event: EngineEvent) {
            guard case .serverStateChanged(.running) = event, runningAt == nil else { return }
            runningAt = .now
            cpuAtRunning = threadCPUMilliseconds()
            whenRunning?(self)
            cpuAtSignal = threadCPUMilliseconds()
            signalledAt = .now
            kill(getpid(), SIGTERM)
        }
    }

    /// The compiled `ready.c` fixture (set by `main` before any command run).
    nonisolated(unsafe) static var readyFixture = ""

    static func configuration(workers: Int, command: Bool) -> SupervisorConfiguration {
        var configuration = SupervisorConfiguration(
            workers: workers,
            worker: command
                ? .command([Self.readyFixture], readiness: .notify)
                : .swiftWorker(executable: sibling("corral-bench-worker"), arguments: []),
            stopSignals: [.terminate], waitTimeout: .seconds(30))
        configuration.logger.logLevel = .critical
        return configuration
    }

    /// One run's wall-clock times and the supervisor thread's CPU time, in milliseconds.
    struct Timing {
        var start: Double
        var stop: Double
        var startCPU: Double
        var stopCPU: Double
    }

    /// One run.
    static func once(workers: Int, command: Bool, whenRunning: ((Stopwatch) -> Void)? = nil) throws -> Timing {
        try once(configuration(workers: workers, command: command), whenRunning: whenRunning)
    }

    /// One run of `configuration`.
    static func once(_ configuration: SupervisorConfiguration, whenRunning: ((Stopwatch) -> Void)? = nil) throws
        -> Timing
    {
        let workers = configuration.workers
        let stopwatch = Stopwatch()
        stopwatch.whenRunning = whenRunning
        let clock = ContinuousClock()
        let began = clock.now
        let cpuAtBegin = threadCPUMilliseconds()
        let report = try Supervisor(configuration).run(frontend: stopwatch)
        let cpuAtEnd = threadCPUMilliseconds()
        let ended = clock.now
        guard report.exitStatus == 0, let running = stopwatch.runningAt, let signalled = stopwatch.signalledAt else {
            throw BenchmarkError(description: "run with \(workers) workers did not stop cleanly: \(report)")
        }
        return Timing(
            start: milliseconds(began, running), stop: milliseconds(signalled, ended),
            startCPU: stopwatch.cpuAtRunning - cpuAtBegin, stopCPU: cpuAtEnd - stopwatch.cpuAtSignal)
    }

    /// Runs and prints the start and stop lines; returns their medians in milliseconds.
    @discardableResult
    static func run(workers: Int, runs: Int, command: Bool) throws -> (start: Double, stop: Double) {
        var starts = Samples()
        var stops = Samples()
        var startCPU = Samples()
        var stopCPU = Samples()
        _ = try once(workers: workers, command: command)  // warm-up: page cache, dynamic loader
        for _ in 0..<runs {
            let timing = try once(workers: workers, command: command)
            starts.add(timing.start)
            stops.add(timing.stop)
            startCPU.add(timing.startCPU)
            stopCPU.add(timing.stopCPU)
        }
        let kind =
            command ? "command worker (C program, READY=1 over NOTIFY_SOCKET)" : "Swift worker (corral-bench-worker)"
        let cpu = "supervisor_cpu_ms: the supervisor thread's own CPU time in that window"
        emit([
            "scenario": command ? "start-command" : "start", "workers": workers, "runs": runs, "ms": starts.summary,
            "supervisor_cpu_ms": startCPU.summary,
            "method":
                "run call -> every \(kind) running (READY=1 received); \(cpu); release build; 1 warm-up run not counted",
        ])
        emit([
            "scenario": command ? "stop-command" : "stop", "workers": workers, "runs": runs, "ms": stops.summary,
            "supervisor_cpu_ms": stopCPU.summary,
            "method": "kill(getpid(), SIGTERM) -> run call returned, every child reaped (trivial shutdown); \(cpu)",
        ])
        return (starts.median, stops.median)
    }

    /// `scale`: corral with command workers beside the same run's C `posix_spawn` floor, and
    /// the ratio of their medians (the goal: within 1.5x, growing linearly).
    static func scale(workers: Int, runs: Int) throws {
        let floor = try BaselineBenchmark.run(mode: "spawn", workers: workers, runs: runs)
        let corral = try run(workers: workers, runs: runs, command: true)
        emit([
            "scenario": "scale", "workers": workers, "runs": runs,
            "corral_start_ms": round3(corral.start), "floor_start_ms": round3(floor.start),
            "start_ratio": round3(corral.start / floor.start),
            "corral_stop_ms": round3(corral.stop), "floor_stop_ms": round3(floor.stop),
            "stop_ratio": round3(corral.stop / floor.stop),
            "method": "medians of start-command/stop-command and baseline-spawn in the same run",
        ])
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
}
