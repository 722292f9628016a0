import Glibc

/// CPU and memory of process trees, from /proc: a worker's own figures plus every descendant's
/// (a shell wrapper or a server that forks shows what it really uses). Sampled on request only,
/// at most ``treesPerSample`` trees a call besides the trees never sampled yet: with more, they
/// take turns (each tree's CPU is over the time since its own last sample), so that sampling a
/// thousand processes once a second stays under 1 % of a core, while a new process has its
/// figures at the first call after it started.
package struct ProcessTreeSampler: Sendable {
    /// What one tree used.
    package struct Usage: Sendable, Equatable {
        /// CPU over the time since the previous sample; 100 = one core. Nil on the first sample.
        package var cpuPercent: Double?
        /// Resident memory of the whole tree, in bytes.
        package var residentBytes: Int
        /// CPU time the tree used since its root started, in seconds: its live processes' own and
        /// their ended children's (reaped inside the tree), so it only grows while the tree keeps
        /// its processes.
        package var cpuSeconds: Double = 0
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

    /// Trees read per call.
    package static let treesPerSample = 300

    private var previous: [pid_t: (ticks: Int, at: ContinuousClock.Instant)] = [:]
    private var cache: [pid_t: Usage] = [:]
    private var cursor = 0
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// A sampler with no history.
    package init() {}

    /// Samples the trees rooted at `roots` (those never sampled, and the next ``treesPerSample``
    /// of the others in turn; the rest keep their last figures); pids that ended are left out.
    package mutating func sample(_ roots: [pid_t], now: ContinuousClock.Instant) -> [pid_t: Usage] {
        let sorted = roots.sorted()
        let current = Set(sorted)
        cache = cache.filter { current.contains($0.key) }
        previous = previous.filter { current.contains($0.key) }
        if cursor >= sorted.count { cursor = 0 }
        let fresh = sorted.filter { cache[$0] == nil && previous[$0] == nil }
        let turn =
            sorted.count <= Self.treesPerSample
            ? sorted[...]
            : (sorted[cursor...] + sorted[..<cursor]).prefix(Self.treesPerSample)
        cursor = sorted.count <= Self.treesPerSample ? 0 : (cursor + Self.treesPerSample) % sorted.count
        for root in Set(fresh).union(turn) {
            cache[root] = nil
            guard let usage = sampleTree(root, now: now) else {
                previous[root] = nil
                continue
            }
            cache[root] = usage
        }
        return cache
    }

    /// Samples one tree, remembering its CPU time for the next time.
    private mutating func sampleTree(_ root: pid_t, now: ContinuousClock.Instant) -> Usage? {
        guard let rootStat = Self.stat(root) else { return nil }
        var ticks = 0
        var reapedTicks = 0
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
            reapedTicks += fields.childTicks
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
        previous[root] = (ticks, now)
        var usage = Usage(
            cpuPercent: cpu, residentBytes: pages * pageSize, processes: count,
            isStopped: rootStat.state == UInt8(ascii: "T") || rootStat.state == UInt8(ascii: "t"),
            descendants: descendants)
        usage.cpuSeconds = Double(ticks + reapedTicks) / ticksPerSecond
        return usage
    }

    /// The figures of /proc/`pid`/stat this needs, parsed from the bytes (no strings: sampling a
    /// thousand processes a second must stay well under 1 % of a core).
    private static func stat(_ pid: pid_t) -> (state: UInt8, ticks: Int, childTicks: Int, residentPages: Int)? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        guard let count = Syscalls.readSmallFile(path(pid, "stat"), into: &buffer),
            let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")"))
        else { return nil }
        // After ") ": state is field 0, utime 11, stime 12, cutime 13, cstime 14, rss 21 (fields
        // 3, 14, 15, 16, 17, 24 of stat).
        var field = 0
        var index = close + 2
        var state: UInt8 = 0
        var user = 0
        var system = 0
        var reaped = 0
        while index < count, field <= 21 {
            var end = index
            var value = 0
            while end < count, buffer[end] != UInt8(ascii: " ") {
                let digit = Int(buffer[end]) - 48
                if (0...9).contains(digit) { value = value &* 10 &+ digit }
                end += 1
            }
            switch field {
            case 0: state = buffer[index]
            case 11: user = value
            case 12: system = value
            case 13, 14: reaped += value
            case 21: return (state, user + system, reaped, value)
            default: break
            }
            field += 1
            index = end + 1
        }
        return nil
    }

    /// The children of `pid`'s main thread (/proc/PID/task/PID/children).
    private static func children(of pid: pid_t) -> [pid_t] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        guard let count = Syscalls.readSmallFile(path(pid, "task/\(pid)/children"), into: &buffer), count > 0 else {
            return []
        }
        var found: [pid_t] = []
        var value: Int32 = 0
        var digits = false
        for byte in buffer[..<count] {
            if (48...57).contains(byte) {
                value = value &* 10 &+ Int32(byte - 48)
                digits = true
            } else {
                if digits { found.append(value) }
                value = 0
                digits = false
            }
        }
        if digits { found.append(value) }
        return found
    }

    private static func path(_ pid: pid_t, _ file: String) -> String { "/proc/\(pid)/\(file)" }
}
