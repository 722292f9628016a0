import CorralEngine
import CorralModel
import Foundation
import Testing

@testable import CorralControl
@testable import corral

@Suite("The control protocol: events, snapshots and commands both ways")
struct WireTests {
    let now = ContinuousClock.now

    /// Every kind of event survives encoding and decoding (`stopped` has its own line).
    @Test("events: encoded as --json writes them, decoded back to the same event")
    func eventsRoundTrip() throws {
        var encoder = EventEncoder(workers: 2, control: "/run/c.sock")
        encoder.observe(.spawned(slot: 1, pid: 77, kind: .worker))
        let killed = SlotEnd(
            termination: .signaled(.kill, coreDumped: false), origin: .supervisor(.timeout),
            failure: .killedAfterTimeout(.seconds(10)), lastLines: ["bye"])
        var byOperator = SlotEnd(
            termination: .signaled(.user1, coreDumped: false), origin: .supervisor(.command), failure: nil)
        byOperator.isStoppedByOperator = true
        let events: [EngineEvent] = [
            .serverStateChanged(.starting),
            .spawned(slot: 1, pid: 77, kind: .worker, generation: 2),
            .stateChanged(slot: 1, .backoff, generation: 2),
            .status(slot: 0, text: "listening on :8080 – ünïcode"),
            .signalSent(slot: 1, pid: 77, .terminate, .reload, generation: 1),
            .output(slot: 1, .stderr, line: "a \"quoted\"\tline \u{1B}[31m"),
            .exited(slot: 1, pid: 77, killed, generation: 3),
            .exited(slot: 0, pid: 70, byOperator),
            .exited(
                slot: 0, pid: 70,
                SlotEnd(termination: .exited(code: 3), origin: nil, failure: .initFailed(.exited(code: 3)))),
            .restartScheduled(slot: 1, generation: 4, attempt: 2, delay: .milliseconds(250), reason: "exit 3"),
            .reload(.started(workers: 2)), .reload(.done(replaced: 2)),
            .reload(.rolledBack(slot: 1, reason: "init failed", replaced: 0, failedEnd: nil)),
            .reload(
                .rolledBack(
                    slot: 0, reason: "generation 2 exited with code 1", replaced: 1,
                    failedEnd: SlotEnd(
                        termination: .exited(code: 1), origin: nil, failure: .initFailed(.exited(code: 1)),
                        lastLines: ["Traceback", "SyntaxError: '(' was never closed"]))),
            .reinstated(slot: 0, pid: 70, generation: 1),
            .waiting(slot: 1, .condition("http://127.0.0.1:8001/health: connection refused"), generation: 2),
            .waiting(slot: 0, .uptime(.milliseconds(1500))),
            .scaled(workers: 6),
            .failed(slot: 1, .initTimedOut(.seconds(5))),
            .failed(slot: 0, .spawnFailed("no such file")),
            .failed(slot: 1, .gaveUp(restarts: 5, window: .seconds(60), last: nil)),
            .stopping(.interrupt, cause: .failure(slot: 1), deadline: now + .seconds(10)),
            .stopping(.terminate, cause: .signal(.terminate), deadline: nil),
            .stopRepeated(.interrupt, deadline: nil),
            .signalIgnored(Signal(rawValue: SIGTSTP)),
        ]
        for event in events {
            let line = encoder.encode(event, time: "2026-12-02T12:00:00.000Z", now: now)
            let message = try #require(WireMessage.decode(Array(line.utf8)), "\(line)")
            #expect(EventDecoder.event(message, now: now) == event, "\(line)")
        }
        #expect(
            encoder.encode(.serverStateChanged(.starting), time: "t", now: now).contains(#""control":"/run/c.sock""#))
    }

    @Test("a snapshot gives back the dashboard state it was made from")
    func snapshotRoundTrip() throws {
        var state = ServerModel(
            supervisorPid: 4000, workers: 2, extras: 1, waitTimeout: .seconds(10),
            stopSignals: [.interrupt, .terminate],
            startedAt: now - .seconds(60), command: "python3 app.py")
        state.apply(.spawned(slot: 0, pid: 4001, kind: .worker), now: now - .seconds(59))
        state.apply(.stateChanged(slot: 0, .running), now: now - .seconds(58))
        state.apply(.status(slot: 0, text: "serving"), now: now - .seconds(58))
        state.apply(.spawned(slot: 1, pid: 4002, kind: .worker), now: now - .seconds(59))
        state.apply(
            .exited(
                slot: 1, pid: 4002,
                SlotEnd(termination: .exited(code: 3), origin: nil, failure: .exitedUnexpectedly(.exited(code: 3)))),
            now: now - .seconds(30))
        state.apply(.stateChanged(slot: 1, .backoff), now: now - .seconds(30))
        state.apply(
            .restartScheduled(slot: 1, generation: 1, attempt: 1, delay: .seconds(40), reason: "exit 3"),
            now: now - .seconds(30))
        state.apply(.spawned(slot: 2, pid: 4003, kind: .extra), now: now - .seconds(59))
        state.apply(.signalSent(slot: 2, pid: 4003, .terminate, .command), now: now - .seconds(5))
        state.apply(.stopping(.terminate, cause: .command(.terminate), deadline: now + .seconds(5)), now: now)
        let line = Snapshot.encode(
            state, control: "/c.sock", output: [RecentOutput.Line(slot: 0, stream: .stdout, text: "hello")],
            time: "t", now: now)
        let message = try #require(WireMessage.decode(Array(line.utf8)))
        #expect(message.event == "snapshot")
        let back = try #require(Snapshot.state(message, now: now))
        #expect(back.supervisorPid == 4000)
        #expect(back.command == "python3 app.py")
        #expect(back.workerCount == 2)
        #expect(back.stopSignals == [.interrupt, .terminate])
        #expect(back.stopping?.cause == .command(.terminate))
        #expect(back.logBook.lines(slot: nil, endingAt: nil, limit: 10).map(\.text) == ["hello"])
        #expect(back.rows.count == 3)
        for (original, decoded) in zip(state.rows, back.rows) {
            #expect(decoded.index == original.index)
            #expect(decoded.pid == original.pid)
            #expect(decoded.kind == original.kind)
            #expect(decoded.state == original.state)
            #expect(decoded.status == original.status)
            #expect(decoded.end == original.end)
            #expect(decoded.lastSignal?.signal == original.lastSignal?.signal)
            #expect(decoded.pendingRestart?.attempt == original.pendingRestart?.attempt)
            // Times travel as milliseconds relative to the snapshot.
            if let a = original.spawnedAt, let b = decoded.spawnedAt {
                #expect(abs((a - b) / .milliseconds(1)) <= 2)
            }
        }
        #expect(back.rows[1].statusText(now: now) == state.rows[1].statusText(now: now))
        #expect(back.rows[1].crashes == state.rows[1].crashes)
    }

    @Test("a snapshot keeps the crash evidence a restart left: the crash count and the previous end")
    func snapshotCrashEvidence() throws {
        var state = ServerModel(
            supervisorPid: 4000, workers: 1, extras: 0, waitTimeout: .seconds(10), stopSignals: [.terminate],
            startedAt: now - .seconds(60))
        state.apply(.spawned(slot: 0, pid: 4001, kind: .worker), now: now - .seconds(59))
        state.apply(.signalSent(slot: 0, pid: 4001, .user1, .command), now: now - .seconds(40))
        let end = SlotEnd(
            termination: .exited(code: 3), origin: nil, failure: .exitedUnexpectedly(.exited(code: 3)),
            lastLines: ["Traceback", "KeyError: 'x'"])
        state.apply(.exited(slot: 0, pid: 4001, end), now: now - .seconds(30))
        state.apply(.spawned(slot: 0, pid: 4002, kind: .worker, generation: 1), now: now - .seconds(29))
        state.apply(.stateChanged(slot: 0, .running, generation: 1), now: now - .seconds(29))
        let line = Snapshot.encode(state, control: nil, output: [], time: "t", now: now)
        let back = try #require(WireMessage.decode(Array(line.utf8)).flatMap { Snapshot.state($0, now: now) })
        #expect(back.rows[0].crashes == 1)
        #expect(back.rows[0].previousEnd?.end == end)
        #expect(back.rows[0].previousEnd?.pid == 4001)
        #expect(back.rows[0].previousEnd?.signals.map(\.signal) == [.user1])
        #expect(back.rows[0].restartsText == "1 (1 crash)")
    }

    @Test("commands: each SupervisorCommand encodes to a request the server grants as the same command")
    func commandsRoundTrip() throws {
        var state = ServerModel(
            supervisorPid: 1, workers: 2, extras: 0, waitTimeout: nil, stopSignals: [.terminate], startedAt: now)
        state.apply(.spawned(slot: 0, pid: 10, kind: .worker), now: now)
        state.apply(.stateChanged(slot: 0, .running), now: now)
        state.apply(.spawned(slot: 1, pid: 11, kind: .worker), now: now)
        state.apply(.stateChanged(slot: 1, .running), now: now)
        let commands: [SupervisorCommand] = [
            .signal(.hangup, to: .all), .signal(.user1, to: .slot(1)), .forceKill(.all), .forceKill(.slot(0)), .stop,
            .restart(slot: 1), .reload, .scale(workers: 3), .signal(.user1, to: .process(slot: 1, generation: 0)),
            .forceKill(.process(slot: 0, generation: 0)),
        ]
        for command in commands {
            let request = try #require(WireMessage.decode(Array(ControlRequest.encode(command).utf8)))
            // A stop asks for the first stop signal to every process, as q does.
            let granted: SupervisorCommand = command == .stop ? .signal(.terminate, to: .all) : command
            #expect(try ControlRequest.command(request, state: state).get() == granted)
        }
    }

    @Test("a snapshot tells a run of programs from one command's: counts per program for programs only")
    func snapshotPrograms() throws {
        var single = ServerModel(
            supervisorPid: 1, workers: 1, extras: 1, waitTimeout: nil, stopSignals: [.terminate], startedAt: now)
        var programs = ServerModel(
            supervisorPid: 2, workers: 2, extras: 0, waitTimeout: nil, stopSignals: [.terminate], startedAt: now,
            names: [ProcessName(program: "web", index: 0), ProcessName(program: "clock", index: 0)])
        programs.programFile = "corral.toml"
        for slot in 0..<2 {
            single.apply(.spawned(slot: slot, pid: pid_t(10 + slot), kind: slot == 0 ? .worker : .extra), now: now)
            single.apply(.stateChanged(slot: slot, .running), now: now)
            programs.apply(.spawned(slot: slot, pid: pid_t(20 + slot), kind: .worker), now: now)
            programs.apply(.stateChanged(slot: slot, .running), now: now)
        }
        func decoded(_ state: ServerModel) throws -> ServerModel {
            let line = Snapshot.encode(state, control: nil, output: [], time: "t", now: now)
            return try #require(WireMessage.decode(Array(line.utf8)).flatMap { Snapshot.state($0, now: now) })
        }
        let attachedSingle = try decoded(single)
        #expect(attachedSingle.programCounts == nil, "worker.0 and extra.1 are one command's, not programs")
        #expect(attachedSingle.rows.map(\.name) == ["worker.0", "extra.1"])
        let attachedPrograms = try decoded(programs)
        #expect(attachedPrograms.programCounts == "web 1/1 · clock 1/1")
        #expect(attachedPrograms.programFile == "corral.toml")
        #expect(attachedPrograms.programNames == ["web", "clock"])
    }

    @Test("program commands: scale web=4, reload web, a signal to a program; refused where there are no programs")
    func programCommands() throws {
        var state = ServerModel(
            supervisorPid: 1, workers: 2, extras: 0, waitTimeout: nil, stopSignals: [.terminate], startedAt: now,
            names: [ProcessName(program: "web", index: 0), ProcessName(program: "clock", index: 0)])
        for slot in 0..<2 {
            state.apply(.spawned(slot: slot, pid: pid_t(10 + slot), kind: .worker), now: now)
            state.apply(.stateChanged(slot: slot, .running), now: now)
        }
        let commands: [SupervisorCommand] = [
            .scaleProgram("web", workers: 4), .reloadPrograms(["web", "clock"]), .signal(.user1, to: .program("web")),
            .forceKill(.program("clock")),
        ]
        for command in commands {
            let request = try #require(WireMessage.decode(Array(ControlRequest.encode(command).utf8)))
            #expect(try ControlRequest.command(request, state: state).get() == command)
        }
        #expect(
            ControlRequest.describe(.scaleProgram("web", workers: 3), state: state)
                == "scaling web to 3 processes: web.1, web.2 start")
        let unknown = try #require(WireMessage.decode(Array(ControlRequest.encode(.reloadPrograms(["api"])).utf8)))
        #expect(throws: ControlRequest.Refusal.self) { try ControlRequest.command(unknown, state: state).get() }
        let several = try #require(WireMessage.decode(Array(ControlRequest.encode(.scale(workers: 3)).utf8)))
        #expect(throws: ControlRequest.Refusal.self) { try ControlRequest.command(several, state: state).get() }
    }

    @Test("refusals say why: no such process, not running, a reload under way, a stopped server, garbage")
    func refusals() throws {
        var state = ServerModel(
            supervisorPid: 1, workers: 1, extras: 0, waitTimeout: nil, stopSignals: [.terminate], startedAt: now)
        state.apply(.spawned(slot: 0, pid: 10, kind: .worker), now: now)
        func refusal(_ json: String) -> String? {
            guard let request = WireMessage.decode(Array(json.utf8)) else { return "undecodable" }
            if case .failure(let refusal) = ControlRequest.command(request, state: state) { return refusal.reason }
            return nil
        }
        #expect(refusal(#"{"command":"signal","signal":"TERM","index":4}"#)?.contains("no process 4") == true)
        #expect(refusal(#"{"command":"signal","signal":"BOGUS"}"#)?.contains("unknown signal") == true)
        #expect(refusal(#"{"command":"scale","workers":0}"#)?.contains("between 1 and") == true)
        #expect(refusal(#"{"command":"dance"}"#)?.contains("unknown command") == true)
        #expect(refusal(#"{"index":1}"#)?.contains("needs a \"command\"") == true)
        state.apply(.reload(.started(workers: 1)), now: now)
        #expect(refusal(#"{"command":"scale","workers":2}"#)?.contains("reload is under way") == true)
        #expect(refusal(#"{"command":"reload"}"#)?.contains("already under way") == true)
        state.apply(
            .exited(slot: 0, pid: 10, SlotEnd(termination: .exited(code: 0), origin: nil, failure: nil)), now: now)
        #expect(refusal(#"{"command":"signal","signal":"TERM","index":0}"#)?.contains("not running") == true)
        state.end(ServerModel.Ended(cause: "done", exitStatus: 0))
        #expect(refusal(#"{"command":"stop"}"#)?.contains("has stopped") == true)
        #expect(WireMessage.decode(Array("[1,2]".utf8)) == nil)
        #expect(WireMessage.decode([0xFF, 0xFE]) == nil)
    }
}
