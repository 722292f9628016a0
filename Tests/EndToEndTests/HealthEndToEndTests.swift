import CorralTestSupport
import Foundation
import Testing

/// Health while running, on the real binary: an HTTP health check that starts failing, and a
/// worker that grows past the memory limit; both restart the worker, and neither fails the run.
@Suite("corral health", .processExclusive)
struct HealthEndToEndTests {
    @Test("--health: a worker whose /health fails N times in a row is unhealthy, then restarted (reason unhealthy)")
    func unhealthyRestarts() throws {
        let port = freePort()
        // Healthy for its first second, then 500: an unmodified stdlib server.
        let server = """
            import http.server, os, time
            started = time.time()
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200 if time.time() - started < 1 else 500)
                    self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
            """
        let corral = try RunningProgram(
            "/usr/bin/env",
            [
                "PORT=\(port)", corralExecutable, "--json", "--no-control", "--ready", "tcp:127.0.0.1:${PORT}",
                "--health", "http://127.0.0.1:${PORT}/health", "--health-interval", "0.3", "--health-failures", "2",
                "--", "python3", "-c", server,
            ])
        let restarted = eventually(within: .seconds(15)) {
            jsonEvents(corral).contains { $0["event"] as? String == "spawned" && $0["generation"] as? Int == 1 }
        }
        #expect(restarted, "\(corral.stdout)")
        let all = jsonEvents(corral)
        let failures = all.filter { $0["event"] as? String == "health" && $0["generation"] as? Int == 0 }
        #expect(failures.map { $0["failures"] as? Int } == [1, 2], "\(failures)")
        #expect(
            failures.allSatisfy {
                $0["ok"] as? Bool == false && $0["detail"] as? String == "http://127.0.0.1:\(port)/health: HTTP 500"
            })
        #expect(all.contains { $0["event"] as? String == "state" && $0["state"] as? String == "unhealthy" })
        let signal = try #require(all.first { $0["event"] as? String == "signal" })
        #expect(signal["reason"] as? String == "unhealthy")
        #expect(signal["signal"] as? String == "SIGTERM")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "a health restart does not change the exit status: \(corral.stderr)")
    }

    @Test("--max-memory: a worker above the limit in two samples is restarted (reason memory)")
    func memoryRestart() throws {
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--no-control", "--ready-after", "0", "--max-memory", "64M", "--", "python3", "-c",
                "import time; x = b'x' * (200 * 1024 * 1024); time.sleep(100)",
            ])
        let restarted = eventually(within: .seconds(15)) {
            jsonEvents(corral).contains { $0["event"] as? String == "spawned" && $0["generation"] as? Int == 1 }
        }
        #expect(restarted, "\(corral.stdout)")
        let all = jsonEvents(corral)
        #expect(all.contains { $0["event"] as? String == "signal" && $0["reason"] as? String == "memory" })
        #expect(all.contains { ($0["detail"] as? String)?.contains("above the 64.0 MiB limit") == true })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }
}
