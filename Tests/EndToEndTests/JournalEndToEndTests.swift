import CorralTestSupport
import Foundation
import Testing

/// Under systemd with its standard output the journal: lines go to the journal's native socket
/// (here one the test binds) as entries with corral's fields; without the socket, to standard
/// output as usual.
@Suite("corral and the journal", .processExclusive)
struct JournalEndToEndTests {
    /// One journal entry's fields (simple `KEY=value` lines; binary-safe values decoded too).
    static func fields(_ datagram: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        var index = 0
        while index < datagram.count {
            guard let newline = datagram[index...].firstIndex(where: { $0 == 10 || $0 == 61 }) else { break }
            let key = String(decoding: datagram[index..<newline], as: UTF8.self)
            if datagram[newline] == 61 {
                let end = datagram[(newline + 1)...].firstIndex(of: 10) ?? datagram.count
                fields[key] = String(decoding: datagram[(newline + 1)..<end], as: UTF8.self)
                index = end + 1
            } else {
                var length: UInt64 = 0
                for (shift, byte) in datagram[(newline + 1)..<(newline + 9)].enumerated() {
                    length |= UInt64(byte) << (8 * UInt64(shift))
                }
                let start = newline + 9
                fields[key] = String(decoding: datagram[start..<(start + Int(length))], as: UTF8.self)
                index = start + Int(length) + 1
            }
        }
        return fields
    }

    @Test("each line an entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CORRAL_PROCESS, CORRAL_PROGRAM, CORRAL_PID")
    func entries() throws {
        let directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("corral-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socketPath = directory + "/journal.sock"
        let socket = bindUnix(socketPath, type: SOCK_DGRAM)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let out = directory + "/out"
        let script = """
            touch \(out); export JOURNAL_STREAM=$(stat -c %d:%i \(out)); export CORRAL_JOURNAL_SOCKET=\(socketPath); \
            exec '\(corralExecutable)' --no-tui --no-control --ready-after 0 --extra 'echo oops >&2; exec sleep 60' \
            -- sh -c 'echo hello; exec sleep 60' > \(out)
            """
        let corral = try RunningProgram("/bin/sh", ["-c", script])
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        var entries: [[String: String]] = []
        let deadline = ContinuousClock.now + .seconds(10)
        var buffer = [UInt8](repeating: 0, count: 65536)
        // The two processes' lines come in either order.
        let wanted = ["hello", "oops"]
        while ContinuousClock.now < deadline,
            !wanted.allSatisfy({ message in entries.contains { $0["MESSAGE"] == message } })
        {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count > 0 { entries.append(Self.fields(Array(buffer[0..<count]))) }
        }
        let hello = try #require(entries.first { $0["MESSAGE"] == "hello" }, "\(entries)")
        #expect(hello["PRIORITY"] == "6" && hello["SYSLOG_IDENTIFIER"] == "worker")
        #expect(hello["CORRAL_PROCESS"] == "worker.0" && hello["CORRAL_PROGRAM"] == "worker")
        #expect(hello["CORRAL_GENERATION"] == "0" && Int(hello["CORRAL_PID"] ?? "") != nil)
        let oops = try #require(entries.first { $0["MESSAGE"] == "oops" })
        #expect(oops["PRIORITY"] == "3" && oops["CORRAL_PROCESS"] == "extra.1")
        let spawned = try #require(entries.first { $0["MESSAGE"]?.hasSuffix("spawned") == true })
        #expect(spawned["SYSLOG_IDENTIFIER"] == "corral" && spawned["CORRAL_PID"] != nil)
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let printed = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(!printed.contains("hello"), "a line the journal took is not printed too: \(printed)")
    }

    @Test("a journal socket that cannot be reached: every line on standard output, none lost")
    func fallback() throws {
        let directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("corral-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/out"
        let script = """
            touch \(out); export JOURNAL_STREAM=$(stat -c %d:%i \(out)); \
            export CORRAL_JOURNAL_SOCKET=\(directory)/nothing.sock; \
            exec '\(corralExecutable)' --no-tui --no-control -- sh -c 'echo hello' > \(out)
            """
        let result = try runProgram("/bin/sh", ["-c", script])
        #expect(result.status == 1, "the worker exits in its first second: an init failure")
        let printed = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(printed.contains("worker.0 | hello") && printed.contains("corral stopped"), "\(printed)")
    }
}
