import Foundation

/// Samples of one measurement and their summary.
struct Samples {
    var values: [Double] = []

    mutating func add(_ value: Double) { values.append(value) }

    var median: Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    var summary: [String: Any] {
        ["median": round3(median), "min": round3(values.min() ?? .nan), "max": round3(values.max() ?? .nan)]
    }
}

func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

/// Milliseconds between two instants.
func milliseconds(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) -> Double {
    let duration = from.duration(to: to)
    return Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// The calling thread's CPU time (user + system) in milliseconds.
func threadCPUMilliseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1e6
}

/// Prints one JSON object on its own line (keys sorted, so lines compare across runs).
func emit(_ object: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

/// Progress on standard error, so standard output stays pure JSON lines.
func note(_ text: String) {
    FileHandle.standardError.write(Data("corral-bench: \(text)\n".utf8))
}

/// A sibling executable built with the benchmark.
func sibling(_ name: String) -> String {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
}

/// Fields of /proc/PID/status, in kB for the memory ones.
func procStatus(_ pid: String = "self") -> [String: Int] {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [:] }
    var fields: [String: Int] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let number = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        if let number { fields[String(parts[0])] = number }
    }
    return fields
}

/// This process's user + system CPU time in seconds, from /proc/self/stat.
func processCPUSeconds() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return .nan }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Starts `arguments` (the program's path first) with `posix_spawn`, its standard output (and
/// error, when `quietErrors`) to `/dev/null`: the measure is the program's, not a process
/// library's.
func spawnQuietly(_ arguments: [String], quietErrors: Bool = false) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    if quietErrors { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
    let argv = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
        throw BenchmarkError(description: "cannot start \(arguments.joined(separator: " "))")
    }
    return pid
}

/// Waits for the child `pid`; its wait status.
func waitFor(_ pid: pid_t) -> CInt {
    var status: CInt = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}
