import CorralTestSupport
import Foundation
import Testing

/// Readiness observed from outside, on the real binary with unmodified programs: a line of
/// output, an HTTP endpoint, a probe command; and `ctl stop`'s signal.
@Suite("corral readiness", .processExclusive)
struct ReadinessEndToEndTests {
    func index(of event: String, _ all: [[String: Any]], where condition: ([String: Any]) -> Bool = { _ in true })
        -> Int?
    {
        all.firstIndex { $0["event"] as? String == event && condition($0) }
    }

    func serverRunning(_ corral: RunningProgram, within limit: Duration = .seconds(15)) -> Bool {
        eventually(within: limit) {
            jsonEvents(corral).contains { $0["event"] as? String == "server" && $0["state"] as? String == "running" }
        }
    }

    @Test("log: a worker is running only once it printed its ready line, however late")
    func logLine() throws {
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--no-control", "-w", "2", "--ready", "log:Application startup complete", "--", "sh", "-c",
                "echo booting; sleep 1; echo 'INFO: Application startup complete.' >&2; exec sleep 100",
            ])
        #expect(serverRunning(corral), "\(corral.stdout)")
        let all = jsonEvents(corral)
        let waiting = try #require(index(of: "waiting", all), "\(corral.stdout)")
        #expect(all[waiting]["waiting_for"] as? String == "log 'Application startup complete'")
        for slot in [0, 1] {
            let line = try #require(
                index(of: "output", all) {
                    $0["index"] as? Int == slot && ($0["line"] as? String)?.contains("startup complete") == true
                })
            let running = try #require(
                index(of: "state", all) { $0["index"] as? Int == slot && $0["state"] as? String == "running" })
            #expect(line < running, "worker.\(slot) was running before its ready line")
        }
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("http://: running once /health answers 2xx; the wait says why (HTTP 503, then refused is not shown twice)")
    func httpProbe() throws {
        let port = freePort()
        // Answers 503 for its first second, then 200: an unmodified stdlib server.
        let server = """
            import http.server, os, time
            started = time.time()
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200 if time.time() - started > 1 else 503)
                    self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
            """
        let corral = try RunningProgram(
            "/usr/bin/env",
            [
                "PORT=\(port)", corralExecutable, "--json", "--no-control", "--ready",
                "http://127.0.0.1:${PORT}/health",
                "--", "python3", "-c", server,
            ])
        #expect(serverRunning(corral), "\(corral.stdout)")
        let all = jsonEvents(corral)
        let waits = all.filter { $0["event"] as? String == "waiting" }.compactMap { $0["waiting_for"] as? String }
        #expect(waits.contains("http://127.0.0.1:\(port)/health: HTTP 503"), "\(waits)")
        #expect(Set(waits).count == waits.count, "a reason is said once while it holds: \(waits)")
        let running = try #require(index(of: "state", all) { $0["state"] as? String == "running" })
        let lastWait = try #require(all.lastIndex { $0["event"] as? String == "waiting" })
        #expect(lastWait < running)
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("exec: running once the probe command exits 0; it sees the worker's environment and CORRAL_PID")
    func execProbe() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-probe-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--no-control", "-w", "2", "--ready",
                "exec:test -e \(directory)/ready-$CORRAL_PROCESS_INDEX-$CORRAL_PID", "--", "sh", "-c",
                "sleep 0.5; touch \(directory)/ready-$CORRAL_PROCESS_INDEX-$$; exec sleep 100",
            ])
        #expect(serverRunning(corral), "\(corral.stdout)")
        let all = jsonEvents(corral)
        let waits = all.filter { $0["event"] as? String == "waiting" }.compactMap { $0["waiting_for"] as? String }
        #expect(waits.contains { $0.hasSuffix(": exit status 1") }, "\(waits)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("a probe command that hangs is SIGKILLed at --probe-timeout and never left behind")
    func hangingProbe() throws {
        // The probe shell's own argument (it stays the parent of sleep): found in /proc by it.
        let marker = "sleep 30; true corral-probe-\(UUID().uuidString)"
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--json", "--no-control", "--probe-timeout", "0.3", "--probe-interval", "0.1", "--ready",
                "exec:\(marker)", "--", "sleep", "100",
            ])
        #expect(
            eventually(within: .seconds(10)) {
                jsonEvents(corral).contains {
                    ($0["waiting_for"] as? String)?.hasSuffix("no answer within 0.3 s") == true
                }
            }, "\(corral.stdout)")
        // Probes come and go: never more than one at a time, each killed at its timeout.
        var most = 0
        for _ in 0..<10 {
            most = max(most, processes(withArgument: marker).count)
            usleep(100_000)
        }
        #expect(most == 1, "probes seen at once: \(most)")
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
        #expect(eventually(within: .seconds(2)) { processes(withArgument: marker).isEmpty }, "a probe outlived corral")
    }

    @Test("a worker that dies within its first second (--ready exec) is an init failure: exit status 1 at once")
    func earlyDeath() throws {
        let result = try runProgram(
            corralExecutable, ["--json", "--no-control", "-w", "2", "--", "sh", "-c", "sleep 0.3; exit 0"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("\"failure_kind\":\"init_failed\""), "\(result.stdout)")
        #expect(!result.stdout.contains("\"state\":\"running\""))
    }

    @Test("corral ctl stop sends the first stop signal, as q does")
    func ctlStopSignal() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let corral = try RunningProgram(
            corralExecutable,
            ["--json", "--control", directory.socket, "--ready-after", "0", "-w", "2", "--", "sleep", "100"])
        #expect(serverRunning(corral), "\(corral.stdout)")
        let stop = try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "stop"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(corral.wait() == 0, "\(corral.stderr)")
        let signals = jsonEvents(corral).filter { $0["event"] as? String == "signal" }
        #expect(signals.count == 2)
        #expect(signals.allSatisfy { $0["signal"] as? String == "SIGINT" }, "\(signals)")
    }
}
