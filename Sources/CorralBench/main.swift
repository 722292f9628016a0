// CorralBench: prints one JSON object per scenario (and worker count) on standard output.
//
//   swift run -c release CorralBench [--scenarios LIST] [--sizes LIST] [--runs N] [--idle-seconds N]
//
// Scenarios: memory, start (start/stop with Swift workers), start-command (with a C command
// worker), baseline (C fork and posix_spawn floors), idle, render, output (relaying children's
// output), scale (start and stop at 1,024 and 4,096 command workers beside the posix_spawn
// floor; not in the default set: it needs a few minutes), restart and restart-command (from a
// crash to the replacement's READY=1), reload (a rolling reload of 64 Swift workers under an
// HTTP load: its time and the failed requests), control (the control socket: event latency to
// 1 and 8 attached clients, corral's CPU under a 100 MB/s output flood with 0 and 8 clients), log
// (a frame for 1,000 processes with a full log, search over 100,000 lines, /proc sampling of
// 1,000 processes, the memory of a full log of 256), reload-python (a rolling reload of 16
// unmodified Python HTTP workers under load, beside gunicorn's HUP reload of 16 sync workers),
// log-files (corral's CPU per MB with --log-dir against without), metrics (/metrics with 2,000
// processes: the scrape time, and event latency without and during scrapes), startup (corral's
// whole-process fixed cost against /bin/true and a C program spawning one; --corral PATH measures
// another binary, e.g. the installed static one).
// Default: all but scale, reload, reload-python, control, log-files and metrics.
import ArgumentParser
import Foundation

/// CorralBench's command line (argument-parser's, so that `--help` and the manual's dump work as
/// for corral).
struct BenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "CorralBench", abstract: "Corral's benchmarks: one JSON object per line on standard output.")

    @Option(help: "Comma-separated scenarios (see the comment in main.swift).")
    var scenarios =
        "memory,baseline,start,start-command,idle,render,output,restart,restart-command,log,startup"
    @Option(help: "Comma-separated worker counts for start, start-command and baseline.")
    var sizes = "1,4,16,64,256"
    @Option(help: "Runs of each measurement.")
    var runs = 5
    @Option(name: .customLong("idle-seconds"), help: "The idle scenario's window.")
    var idleSeconds = 10
    @Option(help: "The corral binary the startup scenario runs (default: the one built beside CorralBench).")
    var corral: String?
}

let options = BenchOptions.parseOrExit()
let scenarios = options.scenarios.split(separator: ",").map(String.init)
let sizes = options.sizes.split(separator: ",").compactMap { Int($0) }
let runs = max(1, options.runs)
let idleSeconds = max(1, options.idleSeconds)

do {
    LifecycleBenchmark.readyFixture = try Fixtures.binary("ready")
    for scenario in scenarios {
        note("running \(scenario)")
        switch scenario {
        case "memory":
            try MemoryBenchmark.run()
            try MemoryBenchmark.corralSupervisor()
        case "baseline":
            for size in sizes {
                try BaselineBenchmark.run(mode: "fork", workers: size, runs: runs)
                try BaselineBenchmark.run(mode: "spawn", workers: size, runs: runs)
            }
        case "start": for size in sizes { try LifecycleBenchmark.run(workers: size, runs: runs, command: false) }
        case "start-command": for size in sizes { try LifecycleBenchmark.run(workers: size, runs: runs, command: true) }
        case "idle": try IdleBenchmark.run(window: .seconds(idleSeconds))
        case "render": try RenderBenchmark.run(iterations: 50)
        case "output": try OutputBenchmark.run(megabytes: 50, runs: runs)
        case "scale": for size in [1024, 4096] { try LifecycleBenchmark.scale(workers: size, runs: runs) }
        case "restart": try RestartBenchmark.run(command: false, restarts: max(runs, 25))
        case "restart-command": try RestartBenchmark.run(command: true, restarts: max(runs, 25))
        case "reload": try ReloadBenchmark.run(workers: 64, runs: min(runs, 3))
        case "programs": try ProgramsBenchmark.run(runs: runs)
        case "reload-python": try PythonReloadBenchmark.run(workers: 16, runs: runs)
        case "control": try ControlBenchmark.run(runs: runs)
        case "log": try LogBenchmark.run(runs: runs)
        case "log-files": try LogFilesBenchmark.run(megabytes: 100, runs: runs)
        case "metrics": try MetricsBenchmark.run(processes: 2000, runs: min(runs, 3))
        case "startup": try StartupBenchmark.run(corral: options.corral ?? sibling("corral"), runs: runs)
        default:
            note("unknown scenario \(scenario)")
            exit(64)
        }
    }
} catch {
    note("failed: \(error)")
    exit(1)
}
