import CorralLoad
import Foundation

/// `metrics`: `--metrics` with 2,000 processes. corral runs 2,000 `sleep` workers and a stamp
/// extra (a line with CLOCK_MONOTONIC every 5 ms, read by a control-socket client as in
/// `control-latency`); once every process's CPU and memory series are present, the stamp's
/// lines are read for 3 s without scraping, 3 s while `/metrics` is fetched every 100 ms, then
/// while it is fetched back to back (a fresh connection each time). Reports the scrape time
/// (request to last byte) and the event latency in each phase.
enum MetricsBenchmark {
    static func run(processes: Int, runs: Int) throws {
        let stamp = try Fixtures.binary("stamp")
        var results: [Run] = []
        for _ in 0..<runs { results.append(try oneRun(stamp: stamp, processes: processes)) }
        func percentiles(_ values: [Double]) -> [String: Any] {
            let sorted = values.sorted()
            func at(_ p: Double) -> Double {
                sorted.isEmpty ? .nan : round3(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
            }
            return ["p50": at(0.5), "p99": at(0.99), "max": round3(sorted.last ?? .nan), "samples": sorted.count]
        }
        emit([
            "scenario": "metrics", "processes": processes, "runs": runs, "scrape_bytes": results.last?.bytes ?? 0,
            "scrape_ms_paced": percentiles(results.flatMap(\.pacedScrapes)),
            "scrape_ms_back_to_back": percentiles(results.flatMap(\.backToBackScrapes)),
            "event_latency_ms_without_scrapes": percentiles(results.flatMap(\.quiet)),
            "event_latency_ms_during_paced_scrapes": percentiles(results.flatMap(\.paced)),
            "event_latency_ms_during_back_to_back_scrapes": percentiles(results.flatMap(\.backToBack)),
            "method":
                "corral --no-tui --metrics 127.0.0.1:PORT -w N -- sleep 600 plus a stamp extra (a CLOCK_MONOTONIC line every 5 ms) read through the control socket; after every process's CPU and memory series appeared: 3 s of stamps without scrapes, 3 s with a GET /metrics every 100 ms, then about 3.5 s of back-to-back GETs (a new connection each; scrape time = request to last byte); event latency = stamp written -> client read",
        ])
    }

    /// What one run measured: scrape times, and event latencies without, during paced and
    /// during back-to-back scrapes.
    private struct Run {
        var pacedScrapes: [Double]
        var backToBackScrapes: [Double]
        var quiet: [Double]
        var paced: [Double]
        var backToBack: [Double]
        var bytes: Int
    }

    /// The stamp extra's lines (one every 5 ms: about 9.5 s).
    private static let stampLines = 1900

    private static func oneRun(stamp: String, processes: Int) throws -> Run {
        let port = PythonReloadBenchmark.freePort()
        // The stamp begins after 10 s (long enough for the processes to start and be sampled).
        let (corral, socket, directory) = try ControlBenchmark.startCorral([
            "--metrics", "127.0.0.1:\(port)", "--keep-running", "--ready-after", "0", "-w", "\(processes)",
            "--extra", "exec \(stamp) \(stampLines) 5 10000", "--", "/bin/sleep", "600",
        ])
        defer {
            corral.terminate()
            corral.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let client = try ControlBenchmark.Client(path: socket)
        let deadline = ContinuousClock.now + .seconds(60)
        var text = ""
        while text.components(separatedBy: "corral_process_resident_memory_bytes{").count < processes + 2 {
            guard ContinuousClock.now < deadline else {
                throw BenchmarkError(description: "the resource series of \(processes) processes never appeared")
            }
            usleep(100_000)
            text = String(decoding: scrape(port: port), as: UTF8.self)
        }
        // Wait for the stamp's first line; 3 s without scrapes, 3 s with one every 100 ms, then
        // back to back until the stamp ends.
        let started = ContinuousClock.now
        while started.duration(to: .now) < .seconds(15), client.count == 0 { usleep(10_000) }
        usleep(3_000_000)
        let pacedFrom = monotonicNanoseconds()
        var paced: [Double] = []
        var backToBack: [Double] = []
        var bytes = 0
        let clock = ContinuousClock()
        let pacedUntil = clock.now + .seconds(3)
        while clock.now < pacedUntil {
            let before = clock.now
            bytes = scrape(port: port).count
            paced.append(milliseconds(before, clock.now))
            usleep(100_000)
        }
        let backToBackFrom = monotonicNanoseconds()
        while clock.now < started + .seconds(25), client.count < stampLines {
            let before = clock.now
            bytes = scrape(port: port).count
            backToBack.append(milliseconds(before, clock.now))
        }
        corral.terminate()
        let result = client.finish()
        var latencies: [[Double]] = [[], [], []]
        for (latency, stamp) in zip(result.latencies, result.stamps) {
            latencies[stamp < pacedFrom ? 0 : stamp < backToBackFrom ? 1 : 2].append(latency)
        }
        return Run(
            pacedScrapes: paced, backToBackScrapes: backToBack, quiet: latencies[0], paced: latencies[1],
            backToBack: latencies[2], bytes: bytes)
    }

    /// `GET /metrics` on a new connection, read to the end (the request asks to close).
    private static func scrape(port: Int) -> [UInt8] {
        guard let fd = LoopbackLoad.connect(port: port) else { return [] }
        defer { close(fd) }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return [] }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            response += buffer[..<count]
        }
        return response
    }
}
