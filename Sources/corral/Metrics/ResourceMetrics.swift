import CoreMetrics
import CorralEngine
import Glibc
import Synchronization

/// `corral_process_cpu_seconds_total` and `corral_process_resident_memory_bytes` of each live
/// process's tree, sampled from /proc once a second on a thread of its own (never on the
/// supervisor's). A process's series appear at the first sample after it started (new processes
/// are sampled first) and go when it ends; a process in its place starts them again.
final class ResourceMetrics: Sendable {
    /// The process a slot runs.
    private struct Target: Equatable {
        var pid: pid_t
        var name: ProcessName
    }

    /// A live process's series.
    private struct Series {
        var pid: pid_t
        var cpu: FloatingPointCounter
        var memory: Gauge
        var cpuSoFar: Double
    }

    private let factory: any MetricsFactory
    private let interval: Duration
    private let targets = Mutex<[Int: Target]>([:])
    private let stopped = Mutex(false)
    private let wakeup: Wakeup
    private let done: Wakeup

    /// Starts sampling, every `interval`, the processes it is told of.
    init(factory: any MetricsFactory, interval: Duration = .seconds(1)) throws(SystemCallError) {
        self.factory = factory
        self.interval = interval
        wakeup = try Wakeup()
        done = try Wakeup()
        try DetachedThread.start { [self] in loop() }
    }

    /// The slot runs `pid` now (a new process, or its previous one given back).
    func track(slot: Int, pid: pid_t, name: ProcessName) {
        targets.withLock { $0[slot] = Target(pid: pid, name: name) }
    }

    /// The slot's process `pid` ended.
    func ended(slot: Int, pid: pid_t) {
        targets.withLock { targets in
            if targets[slot]?.pid == pid { targets[slot] = nil }
        }
    }

    /// Stops the thread, waiting for it at most a second.
    func finish() {
        stopped.withLock { $0 = true }
        wakeup.poke()
        done.wait(milliseconds: 1000)
    }

    private func loop() {
        var sampler = ProcessTreeSampler()
        var series: [Int: Series] = [:]
        let milliseconds = CInt(
            interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        while !stopped.withLock({ $0 }) {
            let current = targets.withLock { $0 }
            for (slot, live) in series where current[slot]?.pid != live.pid {
                live.cpu.destroy()
                live.memory.destroy()
                series[slot] = nil
            }
            let usage = sampler.sample(current.values.map(\.pid), now: .now)
            for (slot, target) in current {
                guard let tree = usage[target.pid] else { continue }
                var live =
                    series[slot]
                    ?? Series(
                        pid: target.pid,
                        cpu: FloatingPointCounter(
                            label: "corral_process_cpu_seconds_total", dimensions: dimensions(target.name),
                            factory: factory),
                        memory: Gauge(
                            label: "corral_process_resident_memory_bytes", dimensions: dimensions(target.name),
                            factory: factory),
                        cpuSoFar: 0)
                if tree.cpuSeconds > live.cpuSoFar {
                    live.cpu.increment(by: tree.cpuSeconds - live.cpuSoFar)
                    live.cpuSoFar = tree.cpuSeconds
                }
                live.memory.record(Int64(tree.residentBytes))
                series[slot] = live
            }
            wakeup.wait(milliseconds: milliseconds)
            wakeup.drain()
        }
        done.poke()
    }

    private func dimensions(_ name: ProcessName) -> [(String, String)] {
        [("program", name.program), ("name", name.description)]
    }
}
