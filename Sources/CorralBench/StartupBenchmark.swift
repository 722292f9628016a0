import Foundation

/// `startup`: corral's own fixed cost, whole process (exec to exit, as a shell sees it): the
/// `corral` binary running one `/bin/true` headless (`--no-tui --no-control`), and printing its
/// version, against `/bin/true` alone and a C program that `posix_spawn`s one `/bin/true` and
/// waits (the floor of any supervisor). Runs alternate; medians. Then the whole `corral` process
/// starting 64 and 1,024 notify workers (`ready.c`): from its `posix_spawn` to its `corral
/// running` line, against the C `posix_spawn` floor for as many children, the two alternating
/// (one of each per iteration, in turn first), so that both see the same minutes of a noisy machine.
enum StartupBenchmark {
    static func run(corral: String, runs: Int) throws {
        let floor = try Fixtures.binary("spawn-true")
        let commands: [(String, [String])] = [
            ("true", ["/bin/true"]),
            ("c_spawn_true", [floor]),
            ("corral_version", [corral, "--version"]),
            ("corral_run_true", [corral, "--no-tui", "--no-control", "--", "/bin/true"]),
        ]
        var samples = [String: Samples]()
        for _ in 0..<max(runs, 20) {
            for (name, arguments) in commands {
                let began = ContinuousClock.now
                let pid = try spawnQuietly(arguments, quietErrors: true)
                _ = waitFor(pid)
                samples[name, default: Samples()].add(milliseconds(began, .now))
            }
        }
        var object: [String: Any] = [
            "scenario": "startup", "corral": corral, "runs": max(runs, 20),
            "method":
                "posix_spawn to waitpid of each command, standard output and error to /dev/null, the four alternating; milliseconds",
        ]
        for (name, values) in samples { object[name + "_ms"] = values.summary }
        if let run = samples["corral_run_true"]?.median, let floor = samples["c_spawn_true"]?.median {
            object["corral_run_true_over_c_floor_ms"] = round3(run - floor)
        }
        emit(object)
        try workersStart(corral: corral, workers: 64, runs: max(min(runs, 40), 9))
        try workersStart(corral: corral, workers: 1024, runs: min(runs, 9))
    }

    /// The whole `corral` process starting `workers` notify workers, beside the C floor: one
    /// run of each per iteration, alternating which goes first.
    private static func workersStart(corral: String, workers: Int, runs: Int) throws {
        let ready = try Fixtures.binary("ready")
        var starts = Samples()
        var floors = Samples()
        let arguments = [
            corral, "--no-tui", "--no-control", "-w", "\(workers)", "--ready", "notify", "--ready-after", "0", "--",
            ready,
        ]
        for iteration in 0..<runs {
            if iteration.isMultiple(of: 2) {
                floors.add(try BaselineBenchmark.run(mode: "spawn", workers: workers, runs: 1, emits: false).start)
                starts.add(try timeToRunning(arguments))
            } else {
                starts.add(try timeToRunning(arguments))
                floors.add(try BaselineBenchmark.run(mode: "spawn", workers: workers, runs: 1, emits: false).start)
            }
        }
        emit([
            "scenario": "startup-workers", "corral": corral, "workers": workers, "runs": runs,
            "corral_start_ms": starts.summary, "c_spawn_floor_start_ms": floors.summary,
            "ratio_to_floor": round3(starts.median / floors.median),
            "method":
                "whole process: posix_spawn of corral --no-tui --no-control -w N --ready notify --ready-after 0 -- ready.c until its 'corral running' line; the C floor: baseline.c posix_spawns N ready.c; one of each per iteration, alternating which goes first; the ratio of the medians",
        ])
    }

    /// Milliseconds from starting `arguments` to its `corral running` line; then stops it.
    private static func timeToRunning(_ arguments: [String]) throws -> Double {
        var fds: [CInt] = [0, 0]
        guard pipe(&fds) == 0 else { throw BenchmarkError(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let began = ContinuousClock.now
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
            throw BenchmarkError(description: "cannot start \(arguments[0])")
        }
        close(fds[1])
        defer {
            kill(pid, SIGTERM)
            close(fds[0])
            _ = waitFor(pid)
        }
        // What was read and not yet searched, with the end of the last read (a marker may span two).
        var window: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let marker = Array(" corral running".utf8)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            guard count > 0 else { throw BenchmarkError(description: "corral ended before running") }
            window += buffer[..<count]
            if window.count >= marker.count,
                window.indices.dropLast(marker.count - 1).contains(where: { window[$0...].starts(with: marker) })
            {
                return milliseconds(began, .now)
            }
            window = Array(window.suffix(marker.count - 1))
        }
    }
}
