import Foundation

/// The C floor in the same run: fork-only children and posix_spawn of a tiny C program, each
/// reporting ready over a pipe, then SIGTERM and reap.
enum BaselineBenchmark {
    /// Runs the baseline program; returns its start and stop medians in ms (and emits them,
    /// unless `emits` is false: a caller that runs it once per iteration summarizes them itself).
    @discardableResult
    static func run(mode: String, workers: Int, runs: Int, emits: Bool = true) throws -> (start: Double, stop: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Fixtures.binary("baseline"))
        process.arguments = [mode, String(workers), String(runs), try Fixtures.binary("ready")]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let start = object["start_ms"] as? [String: Any], let stop = object["stop_ms"] as? [String: Any],
            let startMedian = start["median"] as? Double, let stopMedian = stop["median"] as? Double
        else {
            throw BenchmarkError(description: "baseline \(mode) failed: \(String(decoding: data, as: UTF8.self))")
        }
        guard emits else { return (startMedian, stopMedian) }
        emit([
            "scenario": "baseline-\(mode)", "workers": workers, "runs": runs, "start_ms": start, "stop_ms": stop,
            "method": mode == "fork"
                ? "C: fork() children that write a byte to a pipe; then SIGTERM and waitpid each"
                : "C: posix_spawn of the ready.c fixture (writes a byte to a pipe); then SIGTERM and waitpid each",
        ])
        return (startMedian, stopMedian)
    }
}
