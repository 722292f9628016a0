import Glibc
import SystemPackage
import Testing

@testable import CorralEngine

@Suite("Values: signals, notify messages, output lines")
struct ValueTests {
    @Test("signals print as SIGTERM and parse from TERM, SIGTERM, sigterm and 15")
    func signalNames() {
        #expect(Signal.terminate.description == "SIGTERM")
        #expect(Signal(parsing: "TERM") == .terminate)
        #expect(Signal(parsing: "SIGTERM") == .terminate)
        #expect(Signal(parsing: " sigint ") == .interrupt)
        #expect(Signal(parsing: "15") == .terminate)
        #expect(Signal(parsing: "RTMIN+1")?.rawValue == Signal(parsing: "RTMIN")!.rawValue + 1)
        for bad in ["", "TERMINATE", "0", "-1", "65", "SIG", "1e3", "RTMIN+99"] {
            #expect(Signal(parsing: bad) == nil, "accepted \(bad)")
        }
    }

    @Test("one error type: a taken port is SupervisorError.system with the operation and errno")
    func errorType() throws {
        let first = try Listener.tcp(host: "127.0.0.1", port: 0)
        defer { Listener.close(first) }
        let port = try #require(Listener.port(of: first))
        do {
            let second = try Listener.tcp(host: "127.0.0.1", port: port)
            Listener.close(second)
            Issue.record("a second socket bound the taken port \(port)")
        } catch {
            guard case .system(let underlying) = error else {
                Issue.record("not a system error: \(error)")
                return
            }
            #expect(underlying.errno == .addressInUse)
            #expect(error.operation == "bind")
            #expect(error.errno == .addressInUse)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
        let notFound = SupervisorError.spawnFailed(
            SpawnError(executable: "/no/such", stage: .exec, errno: .noSuchFileOrDirectory, slot: 2))
        #expect(notFound.operation == "execve")
        #expect(notFound.errno == .noSuchFileOrDirectory)
        let invalid = SupervisorError.invalidConfiguration(ConfigurationError(field: "workers", problem: "0"))
        #expect(invalid.operation == nil && invalid.errno == nil)
    }

    @Test("notify datagrams: READY, STOPPING, STATUS; junk ignored; status cleaned and cut")
    func notifyParsing() {
        let message = NotifyMessage(bytes: Array("READY=1\nSTATUS=serving\tnow\nBOGUS\nMAINPID=1".utf8))
        #expect(message.ready)
        #expect(!message.stopping)
        #expect(message.status == "serving now")
        #expect(!NotifyMessage(bytes: Array("READY=0".utf8)).ready)
        let long = NotifyMessage(bytes: Array(("STATUS=" + String(repeating: "x", count: 5000)).utf8))
        #expect(long.status?.count == NotifyMessage.maximumStatusLength)
        let cut = NotifyMessage(bytes: Array("READY=1\nSTATUS=par".utf8), truncated: true)
        #expect(cut.ready && cut.status == nil)
        #expect(NotifyMessage(bytes: [0xFF, 0xFE, 0x0A]).status == nil)
        #expect(
            NotifyMessage(bytes: NotifyMessage(ready: true, status: "a\nb").encoded)
                == NotifyMessage(ready: true, status: "a b"))
    }

    @Test("output is split into lines; long lines are cut; invalid UTF-8 is replaced; the last line is kept")
    func outputLines() {
        var buffer = OutputLineBuffer()
        #expect(buffer.append(Array("one\ntw".utf8)) == ["one"])
        #expect(buffer.append(Array("o\r\n".utf8)) == ["two"])
        #expect(buffer.append([0x66, 0xFF, 0x0A]) == ["f\u{FFFD}"])
        let long = buffer.append([UInt8](repeating: UInt8(ascii: "a"), count: OutputLineBuffer.maximumLineLength + 5))
        #expect(long.count == 1 && long[0].utf8.count == OutputLineBuffer.maximumLineLength)
        #expect(buffer.finish() == "aaaaa")
        #expect(buffer.finish() == nil)
    }

    @Test("output lines do not depend on how the bytes arrive: whole, byte by byte, or in odd chunks")
    func outputLinesInChunks() {
        let limit = OutputLineBuffer.maximumLineLength
        var input: [UInt8] = []
        input += Array("short\r\n\n".utf8)
        input += [UInt8](repeating: UInt8(ascii: "x"), count: limit) + [UInt8(ascii: "\n")]  // exactly the limit
        input += [UInt8](repeating: UInt8(ascii: "y"), count: limit - 1) + [UInt8(ascii: "\n")]
        input += [UInt8](repeating: UInt8(ascii: "z"), count: 2 * limit + 3)
        input += Array("\ntail".utf8)
        func lines(chunkSizes: [Int]) -> [String] {
            var buffer = OutputLineBuffer()
            var result: [String] = []
            var offset = 0
            var turn = 0
            while offset < input.count {
                let size = min(chunkSizes[turn % chunkSizes.count], input.count - offset)
                result += buffer.append(input[offset..<offset + size])
                offset += size
                turn += 1
            }
            return result + [buffer.finish()].compactMap { $0 }
        }
        let whole = lines(chunkSizes: [input.count])
        #expect(whole.count == 9)
        #expect(whole.prefix(4) == ["short", "", String(repeating: "x", count: limit), ""])
        #expect(whole.last == "tail")
        #expect(lines(chunkSizes: [1]) == whole)
        #expect(lines(chunkSizes: [7, 4096, 1, 16_383, 3]) == whole)
    }

    @Test("commands are looked up in PATH like a shell does")
    func lookup() {
        #expect(ExecutableLookup.resolve("sh", path: "/nonexistent:/bin") == "/bin/sh")
        #expect(ExecutableLookup.resolve("./relative/prog") == "./relative/prog")
        #expect(ExecutableLookup.resolve("no-such-program-corral", path: "/bin:/usr/bin") == nil)
    }

    @Test("termination decodes from waitid codes and reads as a sentence")
    func terminations() {
        #expect(Termination(WaitStatus(code: CInt(CLD_EXITED), status: 3)) == .exited(code: 3))
        #expect(
            Termination(WaitStatus(code: CInt(CLD_DUMPED), status: SIGSEGV))
                == .signaled(.segmentationFault, coreDumped: true))
        #expect(
            Termination(WaitStatus(code: CInt(CLD_KILLED), status: SIGTERM)) == .signaled(.terminate, coreDumped: false)
        )
        #expect(!WaitStatus(code: 0, status: 0).isEnd)
        #expect(Termination.signaled(.kill, coreDumped: false).description == "killed by SIGKILL")
        #expect(Duration.milliseconds(1500).secondsText == "1.5 s")
        #expect(Duration.seconds(10).secondsText == "10 s")
    }

    @Test("a run of programs' report names its processes: web.0–1 on one line, clock.0 failed")
    func reportNamesPrograms() {
        let stopped = SlotEnd(
            termination: .signaled(.terminate, coreDumped: false), origin: .supervisor(.failFast), failure: nil)
        let names = [("web", 0), ("web", 1), ("clock", 0)].map { ProcessName(program: $0.0, index: $0.1) }
        var slots = names.enumerated().map { index, name in
            SupervisorReport.Slot(
                index: index, kind: .worker, pid: pid_t(1000 + index), end: stopped, processName: name)
        }
        slots[2].end = SlotEnd(
            termination: .exited(code: 3), origin: nil, failure: .exitedUnexpectedly(.exited(code: 3)))
        let report = SupervisorReport(cause: .failure(slot: 2), stopSignal: .terminate, slots: slots)
        let lines = report.description.split(separator: "\n").map(String.init)
        #expect(lines[0] == "stopped: clock.0 failed; exit status 1")
        #expect(lines[1].hasPrefix("  web.0–1 (2 processes): "), "\(lines)")
        #expect(lines[2].hasPrefix("  clock.0 pid 1002: exited with code 3"), "\(lines)")
    }

    @Test("the report gives neighbours that ended the same way one line, and a failure its stderr lines")
    func reportGroupsIdenticalEnds() {
        let stopped = SlotEnd(
            termination: .signaled(.terminate, coreDumped: false), origin: .supervisor(.forward), failure: nil)
        var slots = (0..<60).map {
            SupervisorReport.Slot(index: $0, kind: .worker, pid: pid_t(1000 + $0), end: stopped)
        }
        slots[59].end = SlotEnd(
            termination: .exited(code: 1), origin: nil, failure: .shutdownFailed(.exited(code: 1)), lastLines: ["boom"])
        let report = SupervisorReport(cause: .failure(slot: 59), stopSignal: .terminate, slots: slots)
        let lines = report.description.split(separator: "\n").map(String.init)
        #expect(lines[0] == "stopped: worker.59 failed; exit status 1")
        #expect(lines[1] == "  worker.0–58 (59 processes): killed by SIGTERM (sent by the supervisor: forward)")
        #expect(lines[2] == "  worker.59 pid 1059: exited with code 1: shutdown failed")
        #expect(lines[3] == "      boom")
        #expect(lines.count == 4)
    }

    @Test("durations as milliseconds and text: one rounding rule each")
    func durationText() {
        #expect(Duration.microseconds(1500).milliseconds() == 1)
        #expect(Duration.microseconds(1500).milliseconds(roundingUp: true) == 2)
        #expect(Duration.seconds(10).secondsText == "10 s")
        #expect(Duration.milliseconds(1250).secondsText == "1.25 s")
        #expect(Duration.milliseconds(7310).countdownText == "7.4 s")
        #expect(Duration.milliseconds(-5).countdownText == "0.0 s")
        #expect(Duration.milliseconds(1500).decimalSeconds == "1.500")
        #expect(Duration.milliseconds(-250).decimalSeconds == "-0.250")
    }
}
