import CorralEngine
import Foundation

/// `memory`: the supervisor's peak RSS running 256 Swift workers, and one idle worker's RSS.
enum MemoryBenchmark {
    final class PidRecorder: Frontend {
        var pids: [pid_t] = []
        var workerRSS: Int?

        func handle(_ event: EngineEvent) {
            if case .spawned(_, let pid, _, _) = event { pids.append(pid) }
            if case .serverStateChanged(.running) = event {
                usleep(200_000)  // let the workers settle into waiting
                workerRSS = pids.first.flatMap { procStatus(String($0))["VmRSS"] }
                kill(getpid(), SIGTERM)
            }
        }
    }

    /// The `corral` executable as a supervisor of 256 command workers, headless: its RSS once
    /// everything runs (its own process, without the benchmark's libraries).
    static func corralSupervisor() throws {
        let corral = Process()
        corral.executableURL = URL(fileURLWithPath: sibling("corral"))
        corral.arguments = ["--json", "-w", "256", "--", LifecycleBenchmark.readyFixture]
        let output = Pipe()
        corral.standardOutput = output
        corral.standardError = FileHandle.nullDevice
        try corral.run()
        var buffer = Data()
        while !String(decoding: buffer, as: UTF8.self).contains(#""event":"server","state":"running""#) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let status = procStatus(String(corral.processIdentifier))
        kill(corral.processIdentifier, SIGTERM)
        _ = output.fileHandleForReading.readDataToEndOfFile()
        corral.waitUntilExit()
        emit([
            "scenario": "memory-corral", "workers": 256, "supervisor_rss_kib": status["VmRSS"] ?? -1,
            "supervisor_peak_rss_kib": status["VmHWM"] ?? -1, "anonymous_kib": status["RssAnon"] ?? -1,
            "file_backed_kib": status["RssFile"] ?? -1, "exit_status": Int(corral.terminationStatus),
            "method": "corral --json -w 256 -- ready (a C command worker): /proc/PID/status once every worker runs",
        ])
    }

    static func run() throws {
        let before = procStatus()["VmHWM"] ?? 0
        let recorder = PidRecorder()
        _ = try Supervisor(LifecycleBenchmark.configuration(workers: 256, command: false)).run(frontend: recorder)
        let peak = procStatus()["VmHWM"] ?? 0
        emit([
            "scenario": "memory", "workers": 256, "supervisor_peak_rss_kib": peak,
            "supervisor_peak_rss_before_run_kib": before, "idle_swift_worker_rss_kib": recorder.workerRSS ?? -1,
            "method": "VmHWM of this process (the supervisor) after the run; VmRSS of worker 0 once all were running",
        ])
    }
}
