import CorralEngine
import Foundation
import Logging

/// `output`: how fast the engine relays children's output. Two command workers each write
/// `megabytes` of 71-byte lines as fast as `yes | head` can; the front end only counts the
/// lines. Timed from the run call until both have ended and every line was handed over.
enum OutputBenchmark {
    /// Counts the lines it is handed.
    final class LineCounter: Frontend {
        var lines = 0
        var bytes = 0

        func handle(_ event: EngineEvent) {
            guard case .output(_, _, let line) = event else { return }
            lines += 1
            bytes += line.utf8.count + 1
        }
    }

    static func run(megabytes: Int, runs: Int) throws {
        let line = "0123456789012345678901234567890123456789012345678901234567890123456789"
        let script = "yes \(line) | head -c \(megabytes * 1_000_000)"
        var configuration = SupervisorConfiguration(
            workers: 2, worker: .command(["sh", "-c", script], readiness: .onExec), failurePolicy: .keepRunning)
        configuration.logger.logLevel = .critical
        var rates = Samples()
        var expectedLines = 0
        for _ in 0..<runs {
            let counter = LineCounter()
            let clock = ContinuousClock()
            let began = clock.now
            _ = try Supervisor(configuration).run(frontend: counter)
            let seconds = milliseconds(began, clock.now) / 1000
            expectedLines = 2 * (megabytes * 1_000_000 / (line.utf8.count + 1))
            guard counter.lines >= expectedLines else {
                throw BenchmarkError(description: "relayed \(counter.lines) lines, expected \(expectedLines)")
            }
            rates.add(Double(counter.bytes) / 1_000_000 / seconds)
        }
        emit([
            "scenario": "output", "workers": 2, "runs": runs, "megabytes_per_worker": megabytes,
            "lines_per_run": expectedLines, "mb_per_s": rates.summary,
            "method":
                "run call -> both command workers (yes | head -c) ended and every 71-byte line was handed to a counting front end; MB/s of lines relayed",
        ])
    }
}
