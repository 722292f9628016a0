import CorralEngine
import Foundation

/// `programs`: 64 command processes as 8 programs of 8 against 64 workers of one program, the
/// same C READY=1 fixture, alternating in the same run (the goal: programs cost no more, within
/// 10 %); and `corral check` on a corral.toml of 200 programs (the goal: under 50 ms).
enum ProgramsBenchmark {
    static func run(runs: Int) throws {
        var oneProgram = LifecycleBenchmark.configuration(workers: 64, command: true)
        oneProgram.readyAfter = .zero
        var eightPrograms = oneProgram
        eightPrograms.programs = (0..<8).map {
            Program("p\($0)", command: [LifecycleBenchmark.readyFixture], workers: 8)
        }
        var single = (start: Samples(), stop: Samples())
        var several = (start: Samples(), stop: Samples())
        _ = try LifecycleBenchmark.once(oneProgram)
        _ = try LifecycleBenchmark.once(eightPrograms)
        for _ in 0..<runs {
            let one = try LifecycleBenchmark.once(oneProgram)
            single.start.add(one.start)
            single.stop.add(one.stop)
            let eight = try LifecycleBenchmark.once(eightPrograms)
            several.start.add(eight.start)
            several.stop.add(eight.stop)
        }
        emit([
            "scenario": "programs", "processes": 64, "runs": runs,
            "one_program_start_ms": single.start.summary, "eight_programs_start_ms": several.start.summary,
            "start_ratio": round3(several.start.median / single.start.median),
            "one_program_stop_ms": single.stop.summary, "eight_programs_stop_ms": several.stop.summary,
            "stop_ratio": round3(several.stop.median / single.stop.median),
            "method":
                "64 READY=1 C processes as 8 programs of 8 vs 64 workers of one program, alternating in one run; "
                + "run call -> all running, SIGTERM -> all reaped; 1 warm-up each not counted",
        ])
        try check(programs: 200, runs: max(runs, 10))
    }

    /// `corral check` on a generated corral.toml of `programs` programs, as a whole process.
    static func check(programs: Int, runs: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        var text = "wait-timeout = 5\n"
        for index in 0..<programs {
            text += "\n[programs.p\(index)]\ncommand = \"python3 app.py --port $PORT\"\nworkers = 2\n"
            text += "env = { NAME = \"p\(index)\" }\n"
            if index > 0 { text += "depends-on = [\"p\(index - 1)\"]\n" }
        }
        let file = directory.appendingPathComponent("corral.toml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        var times = Samples()
        let arguments = [sibling("corral"), "check", "-f", file, "--no-env-file"]
        for _ in 0...runs {
            let began = ContinuousClock.now
            let status = waitFor(try spawnQuietly(arguments))
            let elapsed = began.duration(to: .now)
            guard status == 0 else { throw BenchmarkError(description: "corral check failed (status \(status))") }
            times.add(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        times.values.removeFirst()
        emit([
            "scenario": "check", "programs": programs, "runs": runs, "ms": times.summary,
            "method":
                "corral check -f corral.toml (200 programs, a dependency chain), posix_spawn to waitpid; 1 warm-up",
        ])
    }
}
