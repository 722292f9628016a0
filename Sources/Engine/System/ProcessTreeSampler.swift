import Glibc

/// CPU and memory of process trees, from /proc: a worker's own figures plus every descendant's
/// (a shell wrapper or a server that forks shows what it really uses). Sampled on request only.
package struct ProcessTreeSampler: Sendable {
    /// What one tree used.
    package struct Usage: Sendable, Equatable {
        /// CPU over the time since the previous sample; 100 = one core. Nil on the first sample.
        package var cpuPercent: Double?
        /// Resident memory of the whole tree, in bytes.
        package var residentBytes: Int
        /// Processes in the tree.
        package var processes: Int
        /// The root's descendants (at most 10,000), in the order they were found.
        package var descendants: [pid_t] = []
        /// The root is stopped (SIGSTOP, Ctrl-Z of its own, a tracer).
        package var isStopped: Bool

        /// Creates a record.
        package init(
            cpuPercent: Double?, residentBytes: Int, processes: Int, isStopped: Bool, descendants: [pid_t] = []
        ) {
            self.cpuPercent = cpuPercent
            self.residentBytes = residentBytes
            self.processes = processes
            self.isStopped = isStopped
            self.descendants = descendants
        }
    }

    private var previous: [pid_t: (ticks: Int, at: ContinuousClock.Instant)] = [:]
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// A sampler with no history.
    package init() {}

    /// Samples the trees rooted at `roots` (pids that ended are left out).
    package mutating func sample(_ roots: [pid_t], now: ContinuousClock.Instant) -> [pid_t: Usage] {
        var usage: [pid_t: Usage] = [:]
        var seen: [pid_t: (ticks: Int, at: ContinuousClock.Instant)] = [:]
        for root in roots {
            guard let rootStat = Self.stat(root) else { continue }
            var ticks = 0
            var pages = 0
            var count = 0
            var pending = [root]
            var visited: Set<pid_t> = []
            var descendants: [pid_t] = []
            while let pid = pending.popLast(), count < 10_000 {
                guard visited.insert(pid).inserted, let fields = pid == root ? rootStat : Self.stat(pid) else {
                    continue
                }
                ticks += fields.ticks
                pages += fields.residentPages
                count += 1
                if pid != root { descendants.append(pid) }
                pending += Self.children(of: pid)
            }
            var cpu: Double?
            if let before = previous[root] {
                let seconds = before.at.duration(to: now) / .seconds(1)
                if seconds > 0 { cpu = max(0, Double(ticks - before.ticks) / ticksPerSecond / seconds * 100) }
            }
            seen[root] = (ticks, now)
            usage[root] = Usage(
                cpuPercent: cpu, residentBytes: pages * pageSize, processes: count,
                isStopped: rootStat.state == "T" || rootStat.state == "t", descendants: descendants)
        }
        previous = seen
        return usage
    }

    /// The figures of /proc/`pid`/stat this needs.
    private static func stat(_ pid: pid_t) -> (state: Character, ticks: Int, residentPages: Int)? {
        guard let text = read("/proc/\(pid)/stat", capacity: 1024), let close = text.lastIndex(of: ")") else {
            return nil
        }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state (3), … utime (14), stime (15), … rss (24).
        guard fields.count > 21, let state = fields[0].first, let user = Int(fields[11]), let system = Int(fields[12]),
            let resident = Int(fields[21])
        else { return nil }
        return (state, user + system, resident)
    }

    /// The children of `pid`'s main thread (/proc/PID/task/PID/children).
    private static func children(of pid: pid_t) -> [pid_t] {
        guard let text = read("/proc/\(pid)/task/\(pid)/children", capacity: 64 << 10) else { return [] }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
    }

    private static func read(_ path: String, capacity: Int) -> String? {
        guard let fd = try? Syscalls.open(path, flags: O_RDONLY) else { return nil }
        defer { Syscalls.close(fd) }
        var buffer = [UInt8](repeating: 0, count: capacity)
        guard let count = buffer.withUnsafeMutableBytes({ try? Syscalls.read(fd, into: $0) }) ?? nil else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
