import Foundation

/// `log-files`: corral's own CPU per megabyte of its children's output, headless with
/// `--log-dir` against without it (the goal: at most 1.3×). Two command workers each write
/// `megabytes` of 71-byte lines, touch a marker and sleep; once both markers exist and corral's
/// CPU time has stopped growing (everything relayed and written), corral's own user and system
/// time (from /proc, its children's not counted) is read, then it is stopped.
enum LogFilesBenchmark {
    static func run(megabytes: Int, runs: Int) throws {
        var ratios = Samples()
        var plain = Samples()
        var logged = Samples()
        for _ in 0..<runs {
            let without = try cpuPerMegabyte(megabytes: megabytes, logDirectory: false)
            let with = try cpuPerMegabyte(megabytes: megabytes, logDirectory: true)
            plain.add(without)
            logged.add(with)
            ratios.add(with / without)
        }
        emit([
            "scenario": "log-files", "workers": 2, "runs": runs, "megabytes_per_worker": megabytes,
            "cpu_ms_per_mb_without": plain.summary, "cpu_ms_per_mb_with_log_dir": logged.summary,
            "ratio": ratios.summary,
            "method":
                "corral --no-tui > /dev/null, 2 workers each yes | head -c N of 71-byte lines; corral's own utime+stime from /proc once both wrote all and its CPU stopped growing; with --log-dir DIR against without, alternating",
        ])
    }

    /// corral's CPU milliseconds per megabyte relayed, in one run.
    private static func cpuPerMegabyte(megabytes: Int, logDirectory: Bool) throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-bench-logs-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let line = "0123456789012345678901234567890123456789012345678901234567890123456789"
        let script =
            "yes \(line) | head -c \(megabytes * 1_000_000); touch \(directory.path)/done.$CORRAL_PROCESS_INDEX; exec sleep 600"
        var arguments = [sibling("corral"), "--no-tui", "--no-control", "-w", "2", "--ready-after", "0"]
        if logDirectory { arguments += ["--log-dir", directory.path + "/logs", "--log-max-size", "64M"] }
        arguments += ["--", "sh", "-c", script]
        let pid = try spawnQuietly(arguments)
        defer {
            kill(pid, SIGTERM)
            _ = waitFor(pid)
        }
        let done = (0..<2).map { directory.appendingPathComponent("done.\($0)").path }
        let deadline = ContinuousClock.now + .seconds(120)
        while !done.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            guard ContinuousClock.now < deadline else {
                throw BenchmarkError(description: "the workers never finished")
            }
            usleep(20_000)
        }
        var last = cpuMilliseconds(pid)
        while true {
            usleep(300_000)
            let now = cpuMilliseconds(pid)
            if now == last { break }
            last = now
        }
        return last / Double(2 * megabytes)
    }

    /// A process's own user and system time so far, in milliseconds (/proc/PID/stat).
    private static func cpuMilliseconds(_ pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
