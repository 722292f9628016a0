import CorralEngine
import CorralLoad
import Foundation
import Synchronization
import SystemPackage

/// `reload`: 64 Swift workers answering HTTP on one shared socket; a client on loopback sends
/// requests one after another throughout a rolling reload (new before old, one slot at a
/// time): the reload's total time, and how many requests failed (the goal: none).
enum ReloadBenchmark {
    /// Asks for the reload once everything runs; stops the server when it is done.
    final class Reloader: PollingFrontend {
        var startedAt: ContinuousClock.Instant?
        var doneAt: ContinuousClock.Instant?
        var outcome: ReloadProgress?
        /// The load, stopped when the reload is over (before the server stops).
        var load: LoopbackLoad?
        var counts: (ok: Int, failed: Int)?
        private var wanted = false
        private var asked = false

        var nextDeadline: ContinuousClock.Instant? { wanted && !asked ? .now : nil }

        func handle(_ event: EngineEvent) {
            switch event {
            case .serverStateChanged(.running) where !asked: wanted = true
            case .reload(.started): startedAt = .now
            case .reload(let progress):
                doneAt = .now
                outcome = progress
                counts = load?.finish()
                kill(getpid(), SIGTERM)
            default: break
            }
        }

        func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
            guard wanted, !asked else { return [] }
            asked = true
            return [.reload]
        }
    }

    static func run(workers: Int, runs: Int) throws {
        var durations = Samples()
        var requests = 0
        var failed = 0
        for _ in 0..<runs {
            let listener = try Listener.tcp(host: "127.0.0.1", port: 0)
            defer { Listener.close(listener) }
            guard let port = Listener.port(of: listener) else { throw BenchmarkError(description: "no port") }
            let configuration = LifecycleBenchmark.configuration(workers: workers, command: false)
            let reloader = Reloader()
            reloader.load = LoopbackLoad(port: port)
            _ = try Supervisor(configuration).run(
                sockets: [ListeningSocket(name: "http", descriptor: listener)], frontend: reloader)
            let counts = reloader.counts ?? reloader.load?.finish() ?? (0, 0)
            guard let started = reloader.startedAt, let done = reloader.doneAt, case .done? = reloader.outcome else {
                throw BenchmarkError(
                    description: "the reload did not complete: \(String(describing: reloader.outcome))")
            }
            durations.add(milliseconds(started, done))
            requests += counts.ok + counts.failed
            failed += counts.failed
        }
        emit([
            "scenario": "reload", "workers": workers, "runs": runs, "reload_ms": durations.summary,
            "requests": requests, "failed_requests": failed,
            "method": "Swift workers answering HTTP/1.0 on one shared socket (Connections); one client "
                + "on loopback sending requests one after another from start to stop; reload (batch 1) timed "
                + "from started to done",
        ])
    }
}
