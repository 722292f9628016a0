import CorralEngine
import Foundation
import SystemPackage

/// `control`: corral's control socket, on the real `corral` binary. Latency: a worker writes the
/// shared monotonic clock's time on a line every 5 ms; attached clients read the `output`
/// events, and the delay from the worker's write to the client's read is measured (it includes
/// corral reading the pipe: an upper bound of "engine event → client read"), with 1 and 8
/// clients. CPU: two workers write 50 MB/s each of 71-byte lines for 6 s; corral's own CPU time
/// (all its threads, not its children's) is read from /proc over the middle 4 s, with 0 and 8
/// clients that read everything as fast as they can.
enum ControlBenchmark {
    /// One client connection reading in a thread of its own.
    final class Client: @unchecked Sendable {
        private let fd: CInt
        private let lock = NSLock()
        private var latencies: [Double] = []
        /// Each latency's line: the time it was written (CLOCK_MONOTONIC, ns).
        private var stamps: [Int64] = []
        private var bytes = 0
        private var dropped = 0
        private let done = DispatchSemaphore(value: 0)

        init(path: String) throws {
            do {
                fd = try UnixStream.connect(path: path).rawValue
            } catch {
                throw BenchmarkError(description: "cannot connect to \(path): \(error)")
            }
            Thread.detachNewThread { [self] in read() }
        }

        /// Reads until the server closes the connection; stamps lines as they arrive.
        private func read() {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            var pending: [UInt8] = []
            let marker = Array(#""line":""#.utf8)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                let arrived = monotonicNanoseconds()
                lock.lock()
                bytes += count
                lock.unlock()
                pending += buffer[..<count]
                var start = 0
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[start..<newline]
                    if let stamp = Self.stamp(in: line, after: marker) {
                        lock.lock()
                        latencies.append(Double(arrived - stamp) / 1e6)
                        stamps.append(stamp)
                        lock.unlock()
                    } else if let lines = Self.dropCount(in: line) {
                        lock.lock()
                        dropped += lines
                        lock.unlock()
                    }
                    start = newline + 1
                }
                pending.removeFirst(start)
            }
            close(fd)
            done.signal()
        }

        /// The digits after `"line":"`, if the line is an output event holding a time stamp.
        private static func stamp(in line: ArraySlice<UInt8>, after marker: [UInt8]) -> Int64? {
            guard line.count > marker.count,
                let start = line.indices.first(where: { line[$0...].starts(with: marker) })
            else { return nil }
            var value: Int64 = 0
            var index = start + marker.count
            // At most 18 digits: a time stamp, never a longer run of digits (the flood's lines).
            while index < line.endIndex, index < start + marker.count + 18, let digit = line[index].digit {
                value = value * 10 + Int64(digit)
                index += 1
            }
            guard index < line.endIndex, line[index] == UInt8(ascii: "\"") else { return nil }
            return index > start + marker.count ? value : nil
        }

        private static func dropCount(in line: ArraySlice<UInt8>) -> Int? {
            // Output events are the bulk: told apart by their length before any decoding.
            guard line.count < 80 else { return nil }
            let text = String(decoding: line, as: UTF8.self)
            guard text.contains("\"event\":\"output_dropped\""), let range = text.range(of: "\"lines\":") else {
                return nil
            }
            return Int(text[range.upperBound...].prefix { $0.isNumber })
        }

        /// The stamped lines read so far.
        var count: Int {
            lock.lock()
            defer { lock.unlock() }
            return latencies.count
        }

        /// Waits for the end of the connection; returns what was measured.
        func finish() -> (latencies: [Double], stamps: [Int64], bytes: Int, dropped: Int) {
            done.wait()
            lock.lock()
            defer { lock.unlock() }
            return (latencies, stamps, bytes, dropped)
        }
    }

    static func run(runs: Int) throws {
        let stamp = try Fixtures.binary("stamp")
        let flood = try Fixtures.binary("flood")
        for clients in [1, 8] { try latency(stamp: stamp, clients: clients, runs: runs) }
        try cpu(flood: flood, clients: 8, runs: runs)
    }

    /// Starts corral headless with its control socket in a fresh directory.
    static func startCorral(_ arguments: [String]) throws -> (Process, String, String) {
        let directory = NSTemporaryDirectory() + "corral-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let socket = directory + "/c.sock"
        let corral = Process()
        corral.executableURL = URL(fileURLWithPath: sibling("corral"))
        corral.arguments = ["--no-tui", "--control", socket] + arguments
        corral.standardOutput = FileHandle.nullDevice
        corral.standardError = FileHandle.nullDevice
        try corral.run()
        let deadline = Date() + 10
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline else { throw BenchmarkError(description: "corral made no control socket") }
            usleep(5_000)
        }
        return (corral, socket, directory)
    }

    private static func latency(stamp: String, clients: Int, runs: Int) throws {
        var all: [Double] = []
        for _ in 0..<runs {
            let (corral, socket, directory) = try startCorral(["--", stamp, "200", "5", "1000"])
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let connected = try (0..<clients).map { _ in try Client(path: socket) }
            let results = connected.map { $0.finish() }
            corral.waitUntilExit()
            all += results.flatMap(\.latencies)
        }
        let sorted = all.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? .nan : round3(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        emit([
            "scenario": "control-latency", "clients": clients, "runs": runs, "samples": sorted.count,
            "latency_ms": ["p50": percentile(0.5), "p99": percentile(0.99), "max": round3(sorted.last ?? .nan)],
            "method":
                "a command worker writes CLOCK_MONOTONIC on a line every 5 ms (200 lines); each attached client reads the output event and subtracts: worker write -> client read, through corral's pipe read, JSON encoding and the socket",
        ])
    }

    /// One flood run: corral's CPU time, the MB relayed, and what the clients got.
    private struct FloodRun {
        var cpuPercent: Double
        var relayedPerSecond: Double
        var cpuPerMegabyte: Double
        var receivedPerClient: Double
        var dropped: Int
    }

    /// Runs with 0 and with `clients` clients alternately (so that a slower phase of a noisy
    /// machine weighs on both alike), and reports each with the ratio of CPU per MB per pair.
    private static func cpu(flood: String, clients: Int, runs: Int) throws {
        var alone: [FloodRun] = []
        var attached: [FloodRun] = []
        for _ in 0..<runs {
            alone.append(try floodRun(flood: flood, clients: 0))
            attached.append(try floodRun(flood: flood, clients: clients))
        }
        let method =
            "2 command workers write 50 MB/s each of 71-byte lines for 6 s (fewer when corral does not keep up: they count what they wrote), corral --no-tui to /dev/null; corral's CPU time for the whole run (all threads, not its children; 100 % = one core over the run's wall time), MB of child output relayed per second of flood, CPU ms per MB; clients read everything as fast as they can; runs without and with clients alternate"
        for (count, results) in [(0, alone), (clients, attached)] {
            func summary(_ value: (FloodRun) -> Double) -> [String: Any] {
                var samples = Samples()
                for result in results { samples.add(value(result)) }
                return samples.summary
            }
            var object: [String: Any] = [
                "scenario": "control-flood-cpu", "clients": count, "runs": runs, "flood_mb_per_s": 100,
                "corral_cpu_percent": summary(\.cpuPercent), "relayed_mb_per_s": summary(\.relayedPerSecond),
                "corral_cpu_ms_per_mb": summary(\.cpuPerMegabyte), "method": method,
            ]
            if count > 0 {
                var ratios = Samples()
                for (without, with) in zip(alone, attached) { ratios.add(with.cpuPerMegabyte / without.cpuPerMegabyte) }
                object["cpu_per_mb_ratio_to_no_clients"] = ratios.summary
                object["mb_received_per_client"] = summary(\.receivedPerClient)
                object["output_lines_dropped_for_clients"] = results.map(\.dropped).reduce(0, +)
            }
            emit(object)
        }
    }

    private static func floodRun(flood: String, clients: Int) throws -> FloodRun {
        let reports = NSTemporaryDirectory() + "corral-bench-flood-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let clock = ContinuousClock()
        let began = clock.now
        let (corral, socket, directory) = try startCorral(
            ["--workers", "2", "--keep-running", "--", flood, "50000000", "6", reports])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connected = try (0..<clients).map { _ in try Client(path: socket) }
        // The last reading before corral exits: its CPU time for the whole run (within 20 ms).
        var used = 0.0
        while corral.isRunning {
            let reading = cpuSeconds(of: corral.processIdentifier)
            if reading.isFinite { used = reading }
            usleep(20_000)
        }
        let seconds = milliseconds(began, clock.now) / 1000
        let written = try FileManager.default.contentsOfDirectory(atPath: reports).compactMap { name in
            Double(
                (try? String(contentsOfFile: reports + "/" + name, encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines) ?? "")
        }.reduce(0, +)
        let megabytes = written / 1_000_000
        let results = connected.map { $0.finish() }
        return FloodRun(
            cpuPercent: used / seconds * 100, relayedPerSecond: megabytes / 6, cpuPerMegabyte: used * 1000 / megabytes,
            receivedPerClient: clients > 0
                ? Double(results.map(\.bytes).reduce(0, +)) / Double(clients) / 1_000_000 : 0,
            dropped: results.map(\.dropped).reduce(0, +))
    }

    /// utime + stime of `pid` (its threads, not its children), in seconds.
    private static func cpuSeconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return .nan }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// CLOCK_MONOTONIC in nanoseconds (what the stamp fixture writes).
func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

extension UInt8 {
    /// The value of an ASCII digit.
    fileprivate var digit: Int? { (48...57).contains(self) ? Int(self) - 48 : nil }
}
