import CorralEngine
import Foundation

/// `start` / `stop` (Swift workers) and `start-command` / `stop-command` (a C program that sends
/// READY=1): from the run call until every worker is running; from SIGTERM to the supervisor
/// until the run call has returned with every child reaped.
enum LifecycleBenchmark {
    /// Records when the server is running, then sends SIGTERM to this process (the supervisor).
    final class Stopwatch: Frontend {
        var runningAt: ContinuousClock.Instant?
        var signalledAt: ContinuousClock.Instant?
        /// Called once everything runs, before the SIGTERM (the idle and memory probes).
        var whenRunning: ((Stopwatch) -> Void)?

        func handle(_ event: EngineEvent) {
            guard case .serverStateChanged(.running) = event, runningAt == nil else { return }
            runningAt = .now
            whenRunning?(self)
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

    /// One run: (start ms, stop ms).
    static func once(workers: Int, command: Bool, whenRunning: ((Stopwatch) -> Void)? = nil) throws -> (Double, Double)
    {
        let stopwatch = Stopwatch()
        stopwatch.whenRunning = whenRunning
        var frontend = stopwatch
        let clock = ContinuousClock()
        let began = clock.now
        let report = try Supervisor(configuration(workers: workers, command: command)).run(frontend: &frontend)
        let ended = clock.now
        guard report.exitStatus == 0, let running = stopwatch.runningAt, let signalled = stopwatch.signalledAt else {
            throw BenchmarkError(description: "run with \(workers) workers did not stop cleanly: \(report)")
        }
        return (milliseconds(began, running), milliseconds(signalled, ended))
    }

    static func run(workers: Int, runs: Int, command: Bool) throws {
        var starts = Samples()
        var stops = Samples()
        _ = try once(workers: workers, command: command)  // warm-up: page cache, dynamic loader
        for _ in 0..<runs {
            let (start, stop) = try once(workers: workers, command: command)
            starts.add(start)
            stops.add(stop)
        }
        let kind =
            command ? "command worker (C program, READY=1 over NOTIFY_SOCKET)" : "Swift worker (corral-bench-worker)"
        emit([
            "scenario": command ? "start-command" : "start", "workers": workers, "runs": runs, "ms": starts.summary,
            "method": "run call -> every \(kind) running (READY=1 received); release build; 1 warm-up run not counted",
        ])
        emit([
            "scenario": command ? "stop-command" : "stop", "workers": workers, "runs": runs, "ms": stops.summary,
            "method": "kill(getpid(), SIGTERM) -> run call returned, every child reaped (trivial shutdown)",
        ])
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
}
