import CorralLoad
import Foundation

/// `reload-python`: a rolling reload of 16 Python HTTP workers that were never written for
/// corral (they do not send `READY=1`; corral waits for the line they print once they serve,
/// `--ready log:serving`), under a loopback request loop, beside gunicorn's `HUP` reload of 16
/// sync workers serving an equivalent WSGI app, in the same run. Each reload is timed from the
/// signal to the moment every old worker has ended (and, for gunicorn, 16 new workers run).
/// gunicorn is found on `PATH` or in `$GUNICORN`; without it only corral is measured.
enum PythonReloadBenchmark {
    /// A stdlib HTTP server on the socket corral hands down (fd 3): prints `serving` once it
    /// serves; on SIGTERM it finishes the request it is answering and ends (as gunicorn's sync
    /// worker does on its graceful stop). Nothing in it knows corral.
    static let corralApp = """
        import http.server, os, signal, socket, threading
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"pid %d\\n" % os.getpid()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        server = http.server.HTTPServer(("127.0.0.1", 0), H, bind_and_activate=False)
        server.socket = socket.socket(fileno=3)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        print("serving", flush=True)
        server.serve_forever(poll_interval=0.05)
        """

    /// The same answer as a WSGI app for gunicorn.
    static let wsgiApp = """
        import os
        def app(environ, start_response):
            body = b"pid %d\\n" % os.getpid()
            start_response("200 OK", [("Content-Length", str(len(body)))])
            return [body]
        """

    static func run(workers: Int, runs: Int) throws {
        let directory = NSTemporaryDirectory() + "corral-bench-python-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try corralApp.write(toFile: directory + "/server.py", atomically: true, encoding: .utf8)
        try wsgiApp.write(toFile: directory + "/wsgiapp.py", atomically: true, encoding: .utf8)
        let gunicorn = ProcessInfo.processInfo.environment["GUNICORN"] ?? which("gunicorn")
        // One interpreter for both servers: gunicorn's own (its virtual environment's python3).
        let python =
            ProcessInfo.processInfo.environment["PYTHON"]
            ?? gunicorn.map {
                URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("python3").path
            }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil } ?? "python3"
        for batch in ["1", "all"] {
            var times = Samples()
            var requests = 0
            var failed = 0
            for _ in 0..<runs {
                let outcome = try corralReload(workers: workers, batch: batch, python: python, directory: directory)
                times.add(outcome.milliseconds)
                requests += outcome.ok + outcome.failed
                failed += outcome.failed
            }
            emit([
                "scenario": "reload-python", "server": "corral --ready log:serving --reload-batch \(batch)",
                "workers": workers, "runs": runs, "reload_ms": times.summary, "requests": requests,
                "failed_requests": failed, "python": python,
                "method": "SIGHUP to corral until every old worker ended; stdlib http.server workers on the socket "
                    + "corral holds, unmodified (no READY=1; graceful on SIGTERM); one loopback client sending "
                    + "requests one after another",
            ])
        }
        guard let gunicorn else {
            emit(["scenario": "reload-python", "server": "gunicorn", "skipped": "gunicorn not found ($GUNICORN)"])
            return
        }
        var times = Samples()
        var requests = 0
        var failed = 0
        for _ in 0..<runs {
            let outcome = try gunicornReload(gunicorn, workers: workers, directory: directory)
            times.add(outcome.milliseconds)
            requests += outcome.ok + outcome.failed
            failed += outcome.failed
        }
        emit([
            "scenario": "reload-python", "server": "gunicorn (sync workers)", "workers": workers, "runs": runs,
            "reload_ms": times.summary, "requests": requests, "failed_requests": failed,
            "method": "SIGHUP to gunicorn's arbiter until every old worker ended and \(workers) new ones run; the "
                + "same client",
        ])
    }

    struct Outcome {
        var milliseconds: Double
        var ok: Int
        var failed: Int
    }

    /// One corral run: started, serving, reloaded under load, stopped.
    static func corralReload(workers: Int, batch: String, python: String, directory: String) throws -> Outcome {
        let port = freePort()
        let log = directory + "/corral-\(UUID().uuidString).jsonl"
        let corral = Process()
        corral.executableURL = URL(fileURLWithPath: sibling("corral"))
        corral.arguments = [
            "--json", "--no-control", "-w", "\(workers)", "--listen", "127.0.0.1:\(port)", "--ready", "log:serving",
            "--reload-batch", batch, "--", python, directory + "/server.py",
        ]
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        corral.standardOutput = FileHandle(forWritingAtPath: log)
        corral.standardError = FileHandle.nullDevice
        try corral.run()
        defer {
            if corral.isRunning { kill(corral.processIdentifier, SIGTERM) }
            corral.waitUntilExit()
        }
        func lines() -> [[String: Any]] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        guard
            wait(
                within: .seconds(30),
                { lines().contains { $0["event"] as? String == "server" && $0["state"] as? String == "running" } })
        else { throw BenchmarkError(description: "corral's workers did not start") }
        let old = lines().filter { $0["event"] as? String == "spawned" }.compactMap {
            ($0["pid"] as? Int).map(pid_t.init)
        }
        let load = LoopbackLoad(port: port)
        usleep(300_000)
        let start = ContinuousClock.now
        kill(corral.processIdentifier, SIGHUP)
        guard wait(within: .seconds(60), { old.allSatisfy(hasEnded) }) else {
            _ = load.finish()
            throw BenchmarkError(description: "corral's old workers did not end")
        }
        let end = ContinuousClock.now
        usleep(300_000)
        let counts = load.finish()
        guard lines().contains(where: { $0["event"] as? String == "reload" && $0["phase"] as? String == "done" }) else {
            throw BenchmarkError(description: "corral's reload did not complete")
        }
        return Outcome(milliseconds: milliseconds(start, end), ok: counts.ok, failed: counts.failed)
    }

    /// One gunicorn run: started, serving, reloaded under load, stopped.
    static func gunicornReload(_ gunicorn: String, workers: Int, directory: String) throws -> Outcome {
        let port = freePort()
        let arbiter = Process()
        arbiter.executableURL = URL(fileURLWithPath: gunicorn)
        arbiter.arguments = [
            "-w", "\(workers)", "-b", "127.0.0.1:\(port)", "--chdir", directory, "--log-level", "warning",
            "wsgiapp:app",
        ]
        arbiter.standardOutput = FileHandle.nullDevice
        arbiter.standardError = FileHandle.nullDevice
        try arbiter.run()
        defer {
            if arbiter.isRunning { kill(arbiter.processIdentifier, SIGTERM) }
            arbiter.waitUntilExit()
        }
        let pid = arbiter.processIdentifier
        guard wait(within: .seconds(30), { children(of: pid).count == workers && LoopbackLoad.get(port: port) })
        else { throw BenchmarkError(description: "gunicorn's workers did not start") }
        let old = children(of: pid)
        let load = LoopbackLoad(port: port)
        usleep(300_000)
        let start = ContinuousClock.now
        kill(pid, SIGHUP)
        guard
            wait(
                within: .seconds(60),
                {
                    old.allSatisfy(hasEnded) && children(of: pid).filter { !old.contains($0) }.count == workers
                })
        else {
            _ = load.finish()
            throw BenchmarkError(description: "gunicorn's reload did not complete")
        }
        let end = ContinuousClock.now
        usleep(300_000)
        let counts = load.finish()
        return Outcome(milliseconds: milliseconds(start, end), ok: counts.ok, failed: counts.failed)
    }

    static func wait(within limit: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    /// Whether `pid` has ended (gone, or a zombie).
    static func hasEnded(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// The live children of `pid`.
    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0) }.filter { !hasEnded($0) }
    }

    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// A port free on 127.0.0.1 now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                return getsockname(fd, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
