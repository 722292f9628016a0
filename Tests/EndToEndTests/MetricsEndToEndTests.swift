import CorralLoad
import CorralTestSupport
import Foundation
import Testing

/// `--metrics HOST:PORT`: `/healthz` through the life of a run, every metric present and moving
/// (ready times after starts, restarts and exits after a kill, a reload, the processes' CPU and
/// memory), read with Prometheus's own text parser.
@Suite("--metrics", .processExclusive)
struct MetricsEndToEndTests {
    /// A worker ready after a second that takes a second to stop; an extra that burns some CPU.
    static let worker = "sleep 1; echo ready; trap 'sleep 1; exit 0' INT TERM; sleep 60 & wait"
    static let burner = "i=0; while [ $i -lt 300000 ]; do i=$((i + 1)); done; exec sleep 60"

    @Test("healthz 503 starting, 200 running, 503 stopping; metrics move with starts, a kill, a reload")
    func lifeOfARun() throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(getpid()).sock").path
        let server = try RunningProgram(
            corralExecutable,
            [
                "--no-tui", "--control", socket, "--metrics", "127.0.0.1:0", "-w", "2", "--ready", "log:ready",
                "--restart", "on-failure", "--extra", Self.burner, "--", "/bin/sh", "-c", Self.worker,
            ])
        defer {
            kill(server.pid, SIGKILL)
            server.wait()
        }
        let port = try Self.metricsPort(of: server)
        // Starting: the workers need a second to be ready.
        let first = Self.get(port, "/healthz")
        #expect(first.status == 503 && first.body == "starting\n", "\(first)")
        #expect(eventually(within: .seconds(10)) { Self.get(port, "/healthz") == (200, "ok\n") })
        let runningAt = ContinuousClock.now
        var metrics = Self.scrape(port)
        #expect(metrics.value("corral_up") == 1)
        #expect(metrics.value("corral_processes", ["program": "worker", "state": "running"]) == 2)
        #expect(metrics.value("corral_processes", ["program": "extra", "state": "running"]) == 1)
        #expect(metrics.value("corral_process_ready_seconds_count", ["program": "worker"]) == 2)
        #expect((metrics.value("corral_process_ready_seconds_sum", ["program": "worker"]) ?? 0) >= 2)
        #expect(metrics.value("corral_process_ready_seconds_bucket", ["program": "worker", "le": "0.5"]) == 0)
        // Each process's resources within two seconds of its start.
        #expect(
            eventually(within: .seconds(2) - runningAt.duration(to: .now)) {
                metrics = Self.scrape(port)
                return ["worker.0", "worker.1", "extra.2"].allSatisfy { name in
                    (metrics.value("corral_process_resident_memory_bytes", ["name": name]) ?? 0) > 0
                        && metrics.value("corral_process_cpu_seconds_total", ["name": name]) != nil
                }
            }, "\(metrics.text)")
        #expect(
            eventually(within: .seconds(10)) {
                (Self.scrape(port).value("corral_process_cpu_seconds_total", ["name": "extra.2"]) ?? 0) > 0
            })
        #expect(metrics.value("corral_process_restarts_total", ["program": "worker", "reason": "signal"]) == 0)

        // A kill: an exit of kind killed, a restart for a signal, one more ready time.
        let victim = try #require(spawnedPids(server.stdout).first)
        kill(victim, SIGKILL)
        #expect(
            eventually(within: .seconds(10)) {
                metrics = Self.scrape(port)
                return metrics.value("corral_process_restarts_total", ["program": "worker", "reason": "signal"]) == 1
                    && metrics.value("corral_process_exits_total", ["program": "worker", "kind": "killed"]) == 1
                    && metrics.value("corral_process_ready_seconds_count", ["program": "worker"]) == 3
            }, "\(metrics.text)")

        // A reload: counted when done, with its duration.
        let reload = try runProgram(corralExecutable, ["ctl", "--socket", socket, "reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(
            eventually(within: .seconds(20)) {
                metrics = Self.scrape(port)
                return metrics.value("corral_reloads_total", ["result": "done"]) == 1
                    && metrics.value("corral_reload_duration_seconds_count") == 1
            }, "\(metrics.text)")
        #expect((metrics.value("corral_reload_duration_seconds_sum") ?? 0) >= 2)
        // The replaced processes end cleanly (each takes its second).
        #expect(
            eventually(within: .seconds(5)) {
                Self.scrape(port).value("corral_process_exits_total", ["program": "worker", "kind": "clean"]) == 2
            })

        // The stop: 503 while the workers take their second, then nothing listens.
        kill(server.pid, SIGTERM)
        #expect(eventually(within: .seconds(5)) { Self.get(port, "/healthz") == (503, "stopping\n") })
        #expect(server.wait(timeout: .seconds(20)) == 0, "\(server.stdout)\(server.stderr)")
        #expect(Self.get(port, "/healthz").status == 0)
    }

    @Test("Prometheus's own text parser (prometheus_client) reads every family with its documented type")
    func parsedByPrometheusClient() throws {
        let python = try TestPython.with(["prometheus_client"])
        let server = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--no-control", "--metrics", "127.0.0.1:0", "-w", "2", "--", "/bin/sh", "-c", "exec sleep 60"])
        defer {
            kill(server.pid, SIGKILL)
            server.wait()
        }
        let port = try Self.metricsPort(of: server)
        #expect(eventually(within: .seconds(10)) { Self.scrape(port).value("corral_up") == 1 })
        #expect(
            eventually(within: .seconds(3)) {
                Self.scrape(port).value("corral_process_resident_memory_bytes", ["name": "worker.1"]) != nil
            })
        let text = Self.get(port, "/metrics").body
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            print(json.dumps({f.name: [f.type, len(f.samples)] for f in text_string_to_metric_families(sys.stdin.read())}))
            """
        let parsed = try TestPython.run(python, script, input: text)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let families = try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: [Any]] ?? [:]
        let documented: [String: String] = [
            "corral_up": "gauge", "corral_processes": "gauge", "corral_process_restarts": "counter",
            "corral_process_exits": "counter", "corral_process_cpu_seconds": "counter",
            "corral_process_resident_memory_bytes": "gauge", "corral_process_ready_seconds": "histogram",
            "corral_reloads": "counter", "corral_reload_duration_seconds": "histogram",
            "corral_output_dropped_lines": "counter", "corral_log_dropped_lines": "counter",
        ]
        #expect(Set(families.keys) == Set(documented.keys), "\(parsed.stdout)")
        for (name, type) in documented {
            #expect(families[name]?.first as? String == type, "\(name): \(families[name] ?? [])")
            #expect((families[name]?.last as? Int ?? 0) > 0, "\(name) has no samples")
        }
    }

    @Test("a bad or busy address is refused before anything starts, exit 64")
    func badAddress() throws {
        for (value, message) in [
            ("9100", "--metrics wants HOST:PORT"), ("127.0.0.1:http", "is not a port"),
            ("::1:9100", "brackets"), ("example.com:9100", "'example.com' is not an IP address or localhost"),
        ] {
            let result = try runProgram(corralExecutable, ["--no-tui", "--metrics", value, "--", "/bin/true"])
            #expect(result.status == 64 && result.stderr.contains(message), "\(value): \(result.stderr)")
        }
        let (descriptor, port) = loopbackSocket(listening: true)
        defer { close(descriptor) }
        let busy = try runProgram(corralExecutable, ["--no-tui", "--metrics", "127.0.0.1:\(port)", "--", "/bin/true"])
        #expect(
            busy.status == 64 && busy.stderr.contains("--metrics 127.0.0.1:\(port): port \(port) is in use"),
            "\(busy.stderr)")
        #expect(!busy.stdout.contains("spawned"))
    }

    @Test("a scraper cannot hold corral's descriptors: past 64 open connections the next ones are closed at once")
    func connectionLimit() throws {
        let server = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--no-control", "--metrics", "127.0.0.1:0", "--", "/bin/sh", "-c", "exec sleep 60"])
        defer {
            kill(server.pid, SIGKILL)
            server.wait()
        }
        let port = try Self.metricsPort(of: server)
        #expect(eventually(within: .seconds(10)) { Self.get(port, "/healthz").status == 200 })
        let connections = (0..<70).map { _ in LoopbackLoad.connect(port: port) ?? -1 }
        defer { for fd in connections { close(fd) } }
        #expect(connections.allSatisfy { $0 >= 0 })
        usleep(500_000)
        // A closed connection reads end-of-file at once; an admitted one has nothing to read.
        let closedAtOnce = connections.filter { (fd: CInt) -> Bool in
            var byte: UInt8 = 0
            var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return Glibc.poll(&poll, 1, 10) == 1 && recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 0
        }
        #expect(closedAtOnce.count == 6, "\(closedAtOnce.count) closed")
        for fd in connections { close(fd) }
        #expect(eventually(within: .seconds(5)) { Self.get(port, "/healthz") == (200, "ok\n") })
    }

    /// The port `server` (started with `--metrics 127.0.0.1:0`) says it serves metrics on, once
    /// its first line is out (within 10 s).
    static func metricsPort(of server: RunningProgram) throws -> Int {
        var port = 0
        #expect(
            eventually(within: .seconds(10)) {
                port = metricsPort(server.stdout) ?? 0
                return port > 0
            }, "\(server.stdout)\(server.stderr)")
        try #require(port > 0)
        return port
    }

    /// The port of the `metrics http://127.0.0.1:PORT/metrics` on the first line.
    static func metricsPort(_ log: String) -> Int? {
        guard let range = log.range(of: #"metrics http://127\.0\.0\.1:\d+/"#, options: .regularExpression) else {
            return nil
        }
        return Int(log[range].dropFirst("metrics http://127.0.0.1:".count).dropLast())
    }

    /// A GET of `path`: the status (0: no answer) and body.
    static func get(_ port: Int, _ path: String) -> (status: Int, body: String) {
        guard
            let result = try? runProgram(
                "/usr/bin/curl", ["-s", "--max-time", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        else { return (0, "") }
        guard let newline = result.stdout.lastIndex(of: "\n") else { return (0, "") }
        return (Int(result.stdout[result.stdout.index(after: newline)...]) ?? 0, String(result.stdout[..<newline]))
    }

    static func scrape(_ port: Int) -> Exposition { Exposition(get(port, "/metrics").body) }
}

/// The samples of a Prometheus text exposition.
struct Exposition {
    let text: String
    let samples: [(name: String, labels: [String: String], value: Double)]

    init(_ text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return (String(series), [:], value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)...].dropLast().split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return (String(series[..<brace]), labels, value)
        }
    }

    /// The sum of the samples named `name` whose labels include `labels` (nil: none).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }
}
