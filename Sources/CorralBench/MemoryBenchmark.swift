import CorralEngine
import Foundation

/// `memory`: the supervisor's peak RSS running 256 Swift workers, and one idle worker's RSS.
enum MemoryBenchmark {
    final class PidRecorder: Frontend {
        var pids: [pid_t] = []
        var workerRSS: Int?

        func handle(_ event: EngineEvent) {
            if case .spawned(_, let pid, _) = event { pids.append(pid) }
            if case .serverStateChanged(.running) = event {
                usleep(200_000)  // let the workers settle into waiting
                workerRSS = pids.first.flatMap { procStatus(String($0))["VmRSS"] }
                kill(getpid(), SIGTERM)
            }
        }
    }

    static func run() throws {
        let before = procStatus()["VmHWM"] ?? 0
        let recorder = PidRecorder()
        var frontend = recorder
        _ = try Supervisor(LifecycleBenchmark.configuration(workers: 256, command: false)).run(frontend: &frontend)
        let peak = procStatus()["VmHWM"] ?? 0
        emit([
            "scenario": "memory", "workers": 256, "supervisor_peak_rss_kib": peak,
            "supervisor_peak_rss_before_run_kib": before, "idle_swift_worker_rss_kib": recorder.workerRSS ?? -1,
            "method": "VmHWM of this process (the supervisor) after the run; VmRSS of worker 0 once all were running",
        ])
    }
}
