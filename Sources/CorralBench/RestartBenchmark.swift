import CorralEngine
import Foundation

/// `restart` (a Swift worker, forked again by the zygote) and `restart-command` (the C `ready`
/// fixture, exec'ed again): the worker is SIGKILLed from outside as soon as it runs, `--restart
/// on-failure` with no delay brings it back; timed from the kill to its replacement's
/// `READY=1` (the state `running`). Beside the same run's C floors: fork, or posix_spawn, of
/// one child that reports ready, plus its SIGTERM and waitpid.
enum RestartBenchmark {
    /// Kills the worker each time it runs, and records how long its replacement took.
    final class Killer: Frontend {
        let restarts: Int
        var latencies = Samples()
        private var pid: pid_t?
        private var killedAt: ContinuousClock.Instant?

        init(restarts: Int) { self.restarts = restarts }

        func handle(_ event: EngineEvent) {
            switch event {
            case .spawned(0, let pid, _, _):
                self.pid = pid
            case .stateChanged(0, .running, _):
                if let killedAt { latencies.add(milliseconds(killedAt, .now)) }
                killedAt = nil
                guard let pid else { return }
                if latencies.values.count >= restarts {
                    kill(getpid(), SIGTERM)
                } else {
                    killedAt = .now
                    kill(pid, SIGKILL)
                }
            default:
                break
            }
        }
    }

    static func run(command: Bool, restarts: Int) throws {
        var configuration = LifecycleBenchmark.configuration(workers: 1, command: command)
        configuration.restartPolicy = .onFailure
        configuration.restartBackoff = RestartBackoff(delay: .zero, maxRestarts: restarts + 10, window: .seconds(3600))
        let killer = Killer(restarts: restarts)
        _ = try Supervisor(configuration).run(frontend: killer)
        let floor = try BaselineBenchmark.run(mode: command ? "spawn" : "fork", workers: 1, runs: max(restarts, 5))
        emit([
            "scenario": command ? "restart-command" : "restart", "restarts": restarts,
            "restart_ms": killer.latencies.summary,
            "floor_ms": round3(floor.start + floor.stop),
            "method": "SIGKILL from outside when the worker runs; --restart on-failure, delay 0; from the kill to the "
                + "replacement's READY=1. Floor: the same run's C \(command ? "posix_spawn" : "fork") of one child "
                + "reporting ready, plus SIGTERM and waitpid",
        ])
    }
}
