import CorralEngine
import CorralTUI
import Foundation
import SystemPackage

/// `idle`: the supervisor's CPU time and wakeups over a window in which nothing happens, with 64
/// running Swift workers headless, and with 256 under the dashboard (drawing offscreen).
enum IdleBenchmark {
    /// Waits `window` once everything runs, measuring around it, then stops the server.
    final class Probe<Inner: PollingFrontend>: PollingFrontend {
        let inner: Inner
        let window: Duration
        var windowEnd: ContinuousClock.Instant?
        var cpuBefore = 0.0
        var switchesBefore = 0
        var result: (cpuPercent: Double, wakeupsPerSecond: Double)?

        init(inner: Inner, window: Duration) {
            self.inner = inner
            self.window = window
        }

        var descriptors: [FileDescriptor] { inner.descriptors }

        var nextDeadline: ContinuousClock.Instant? {
            [inner.nextDeadline, result == nil ? windowEnd : nil].compactMap { $0 }.min()
        }

        func handle(_ event: EngineEvent) {
            inner.handle(event)
            if case .serverStateChanged(.running) = event, windowEnd == nil {
                cpuBefore = processCPUSeconds()
                switchesBefore = procStatus("thread-self")["voluntary_ctxt_switches"] ?? 0
                windowEnd = .now + window
            }
        }

        func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
            let commands = inner.wake(now: now, readable: readable)
            if let windowEnd, now >= windowEnd, result == nil {
                let seconds = Double(window.components.seconds)
                let switches = (procStatus("thread-self")["voluntary_ctxt_switches"] ?? 0) - switchesBefore
                // The wakeup that ends the window is not idle time: leave it out.
                result = ((processCPUSeconds() - cpuBefore) / seconds * 100, Double(max(0, switches - 1)) / seconds)
                kill(getpid(), SIGTERM)
            }
            return commands
        }
    }

    /// A front end that does nothing: the headless supervisor's floor.
    final class Silent: PollingFrontend {
        func handle(_ event: EngineEvent) {}
    }

    static func run(window: Duration) throws {
        let headless = Probe(inner: Silent(), window: window)
        _ = try Supervisor(LifecycleBenchmark.configuration(workers: 64, command: false)).run(frontend: headless)
        if let result = headless.result {
            emit([
                "scenario": "idle", "workers": 64, "window_s": window.components.seconds,
                "cpu_percent_of_one_core": round3(result.cpuPercent),
                "wakeups_per_second": round3(result.wakeupsPerSecond),
                "method":
                    "headless, nothing happening: /proc/self/stat utime+stime and the driver thread's voluntary_ctxt_switches over the window",
            ])
        }

        let devNull = open("/dev/null", O_RDWR)
        let input = open("/dev/null", O_RDONLY)
        let configuration = LifecycleBenchmark.configuration(workers: 256, command: false)
        let state = DashboardState(
            supervisorPid: getpid(), workers: 256, extras: 0, waitTimeout: configuration.waitTimeout,
            stopSignals: configuration.stopSignals, startedAt: .now)
        let backend = NcursesBackend(offscreenOutput: devNull, input: input, width: 200, height: 60, colors: true)
        let dashboard = try DashboardFrontend(state: state, backend: backend, input: nil)
        let probe = Probe(inner: dashboard, window: window)
        _ = try Supervisor(configuration).run(frontend: probe)
        dashboard.finish()
        if let result = probe.result {
            emit([
                "scenario": "idle-dashboard", "workers": 256, "window_s": window.components.seconds,
                "cpu_percent_of_one_core": round3(result.cpuPercent),
                "wakeups_per_second": round3(result.wakeupsPerSecond),
                "method": "the dashboard (200x60, drawn offscreen by ncurses to /dev/null) at its idle refresh rate",
            ])
        }
    }
}
