import CorralEngine
import Foundation
import Testing

@testable import CorralControl
@testable import corral

@Suite("Headless output: text lines and JSON lines")
struct HeadlessOutputTests {
    let end = SlotEnd(
        termination: .signaled(.kill, coreDumped: false), origin: .supervisor(.timeout),
        failure: .killedAfterTimeout(.seconds(10)))

    @Test("text: one line per event in the documented shape")
    func text() {
        let log = HeadlessLog(
            output: OutputWriter(descriptor: -1), workers: 4, waitTimeout: .seconds(10), colors: false)
        log.handle(.spawned(slot: 2, pid: 4121, kind: .worker))
        #expect(log.describe(.stateChanged(slot: 2, .running)) == "worker.2 pid=4121 running")
        #expect(log.describe(.spawned(slot: 4, pid: 4200, kind: .extra)) == "extra.4 pid=4200 spawned")
        #expect(
            log.describe(.signalSent(slot: 3, pid: 4122, .kill, .timeout))
                == "worker.3 pid=4122 SIGKILL sent after 10.0 s timeout")
        #expect(
            log.describe(.signalSent(slot: 2, pid: 4121, .terminate, .forward))
                == "worker.2 pid=4121 SIGTERM sent (forwarded)")
        #expect(log.describe(.output(slot: 2, .stdout, line: "x")) == nil)
        #expect(
            log.describe(.exited(slot: 2, pid: 4121, end))?.hasPrefix("worker.2 pid=4121 exited: killed by SIGKILL")
                == true)
        #expect(
            log.describe(.stopping(.terminate, cause: .signal(.terminate), deadline: .now))
                == "corral stopping with SIGTERM: SIGTERM received; SIGKILL in 10.0 s")
    }

    @Test("colour codes only when asked for")
    func colour() {
        let colored = HeadlessLog(output: OutputWriter(descriptor: -1), workers: 1, waitTimeout: nil, colors: true)
        #expect(colored.describe(.stateChanged(slot: 0, .running))?.contains("\u{1B}[32m") == true)
        let plain = HeadlessLog(output: OutputWriter(descriptor: -1), workers: 1, waitTimeout: nil, colors: false)
        #expect(plain.describe(.stateChanged(slot: 0, .running))?.contains("\u{1B}") == false)
    }

    @Test("JSON: every event is one valid object with time and event first, and the documented fields")
    func json() throws {
        var writer = EventEncoder(workers: 2, control: nil)
        let now = ContinuousClock.now
        writer.observe(.spawned(slot: 1, pid: 77, kind: .worker))
        let samples: [(EngineEvent, [String: Any])] = [
            (
                .spawned(slot: 1, pid: 77, kind: .worker),
                ["event": "spawned", "index": 1, "pid": 77, "kind": "worker", "generation": 0]
            ),
            (.stateChanged(slot: 1, .running), ["event": "state", "index": 1, "pid": 77, "state": "running"]),
            (
                .status(slot: 1, text: "a \"quoted\"\nline"),
                ["event": "status", "index": 1, "text": "a \"quoted\"\nline"]
            ),
            (
                .signalSent(slot: 1, pid: 77, .terminate, .forward),
                ["event": "signal", "signal": "SIGTERM", "reason": "forward"]
            ),
            (.exited(slot: 1, pid: 77, end), ["event": "exited", "signal": "SIGKILL", "sent_by_supervisor": true]),
            (
                .exited(slot: 1, pid: 77, SlotEnd(termination: .exited(code: 3), origin: nil, failure: nil)),
                ["event": "exited", "code": 3]
            ),
            (
                .stopping(.interrupt, cause: .signal(.interrupt), deadline: now + .seconds(10)),
                ["event": "stopping", "deadline_s": 10.0]
            ),
            (.stopping(.interrupt, cause: .signal(.interrupt), deadline: nil), ["event": "stopping"]),
            (
                .spawned(slot: 1, pid: 78, kind: .worker, generation: 2),
                ["event": "spawned", "index": 1, "generation": 2, "pid": 78]
            ),
            (.stateChanged(slot: 1, .backoff, generation: 2), ["event": "state", "generation": 2, "state": "backoff"]),
            (
                .signalSent(slot: 1, pid: 78, .terminate, .forward, generation: 2),
                ["event": "signal", "index": 1, "generation": 2]
            ),
            (
                .exited(slot: 1, pid: 78, end, generation: 2),
                ["event": "exited", "index": 1, "generation": 2]
            ),
            (
                .restartScheduled(
                    slot: 1, generation: 3, attempt: 2, delay: .milliseconds(250), reason: "exited with code 3"),
                [
                    "event": "restart", "index": 1, "generation": 3, "attempt": 2, "delay_s": 0.25,
                    "reason": "exited with code 3",
                ]
            ),
            (.scaled(workers: 6), ["event": "scale", "workers": 6]),
            (
                .signalSent(slot: 3, pid: 90, .terminate, .scale, generation: 0),
                ["event": "signal", "index": 3, "reason": "scale"]
            ),
        ]
        for (event, expected) in samples {
            let line = writer.encode(event, time: "2026-11-26T12:00:00.000Z", now: now)
            #expect(line.hasPrefix("{\"time\":\"2026-11-26T12:00:00.000Z\",\"event\":"))
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            for (key, value) in expected {
                if let flag = value as? Bool {
                    #expect(object[key] as? Bool == flag, "\(key) in \(line)")
                } else {
                    #expect("\(object[key] ?? "missing")" == "\(value)", "\(key) in \(line)")
                }
            }
        }
        let noDeadline = writer.encode(
            .stopping(.interrupt, cause: .signal(.interrupt), deadline: nil), time: "t", now: now)
        #expect(noDeadline.contains("\"deadline_s\":null"))
        #expect(JSONObject.quote("\u{1}") == "\"\\u0001\"")
    }
}
