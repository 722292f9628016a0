import CorralEngine
import CorralTestSupport
import Foundation
import SystemPackage
import Testing

/// What a control client may not do to the server: another user, garbage, endless lines, a
/// client that never reads, connections by the thousand.
@Suite("corral's control socket under abuse", .processExclusive)
struct ControlAbuseTests {
    typealias Server = ControlEndToEndTests.Server

    /// A raw client connection.
    final class RawClient {
        let fd: CInt

        init(_ path: String) throws {
            fd = try UnixStream.connect(path: path).rawValue
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// Sends bytes; false once the server closed the connection.
        @discardableResult
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes {
                    Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }

        /// Reads until the server closes the connection (bounded by the receive timeout);
        /// returns what came and whether the end was seen.
        func readToEnd() -> (text: String, closed: Bool) {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { return (String(decoding: data, as: UTF8.self), true) }
                // A connection closed with unread data in it ends with ECONNRESET.
                if count < 0 { return (String(decoding: data, as: UTF8.self), errno == ECONNRESET) }
                data += buffer[..<count]
            }
        }

        deinit { close(fd) }
    }

    /// The corral's open descriptors.
    static func descriptorCount(_ pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// The corral's resident memory in KiB.
    static func residentKiB(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    @Test("random bytes, an endless line, invalid UTF-8, a half command: each closes that client only")
    func garbage() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let server = try Server(
            socket: directory.socket, ["--workers", "2", "--ready-after", "0", "--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 2 })
        let pids = spawnedPids(server.program.stdout)

        var random = [UInt8](repeating: 0, count: 1 << 20)
        for index in random.indices { random[index] = UInt8.random(in: 0...255) }
        let inputs: [(String, [UInt8])] = [
            ("1 MiB of random bytes", random),
            ("an endless line", [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)),
            ("invalid UTF-8", [0xFF, 0xFE, 0xC3, 0x28, 0x0A]),
            ("JSON that is not an object", Array("[1,2,3]\n".utf8)),
        ]
        for (name, bytes) in inputs {
            let client = try RawClient(directory.socket)
            client.send(bytes)
            let (_, closed) = client.readToEnd()
            #expect(closed, "\(name): the server closes that client")
            #expect(try server.ctl("status").status == 0, "\(name): the server still answers")
        }
        // A command cut in half, then the client goes: nothing is done.
        do {
            let client = try RawClient(directory.socket)
            client.send(Array("{\"command\":\"st".utf8))
        }
        // A command cut in half and left so: the server closes it after its limit, not before
        // answering others.
        let stalled = try RawClient(directory.socket)
        stalled.send(Array("{\"command\":\"stop\"".utf8))
        #expect(try server.ctl("status").status == 0)
        let processes = try server.processes()
        #expect(processes.compactMap { $0["pid"] as? Int }.map { pid_t($0) } == pids)
        #expect(processes.allSatisfy { $0["state"] as? String == "running" }, "nothing was stopped")
        #expect(try server.stop() == 0)
    }

    @Test("another user is refused with a reason, and the server is untouched")
    func anotherUser() throws {
        guard OtherUser.isAvailable else { return }
        // A directory and socket another user can reach, so that the server's own check is what refuses.
        let directory = try ControlEndToEndTests.SocketDirectory()
        chmod(directory.path, 0o755)
        let server = try Server(
            socket: directory.socket, ["--workers", "2", "--ready-after", "0", "--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 2 })
        chmod(directory.socket, 0o777)
        for arguments in [["status"], ["stop"], ["kill"]] {
            let command = OtherUser.corralCommand(["ctl", "--socket", directory.socket] + arguments)
            let result = try runProgram(command[0], Array(command.dropFirst()))
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("permission denied"), "\(result.stderr)")
        }
        let processes = try server.processes()
        #expect(processes.compactMap { $0["pid"] as? Int }.map { pid_t($0) } == spawnedPids(server.program.stdout))
        #expect(processes.allSatisfy { $0["state"] as? String == "running" })
        #expect(try server.stop() == 0)
    }

    @Test("a client that never reads while the workers flood: others are answered, the stop is on time, memory bounded")
    func stalledReader() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let server = try Server(
            socket: directory.socket,
            ["--workers", "2", "--wait-timeout", "2", "--", "sh", "-c", "exec yes flood-line-of-output"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 2 })
        let stalled = try RawClient(directory.socket)
        var rss: [Int] = []
        for _ in 0..<6 {
            usleep(300_000)
            #expect(try server.ctl("status").status == 0)
            rss.append(Self.residentKiB(server.program.pid))
        }
        #expect(rss.allSatisfy { $0 < 256 * 1024 }, "corral's RSS: \(rss) KiB")
        let clock = ContinuousClock()
        let start = clock.now
        _ = try server.ctl("stop")
        #expect(server.program.wait(timeout: .seconds(20)) == 0)
        #expect(clock.now - start < .seconds(5), "stopped in \(clock.now - start)")
        // The stalled client was dropped at some point, or gets the end now.
        _ = stalled.readToEnd()
    }

    @Test("1,000 connect/disconnect cycles leave the descriptor count where it was")
    func connectionCycles() throws {
        let directory = try ControlEndToEndTests.SocketDirectory()
        let server = try Server(socket: directory.socket, ["--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 1 })
        #expect(try server.ctl("status").status == 0)
        let before = Self.descriptorCount(server.program.pid)
        for cycle in 0..<1000 {
            let client = try RawClient(directory.socket)
            if cycle % 2 == 0 { client.send(Array("{\"command\":\"reload\"".utf8)) }
        }
        #expect(try server.ctl("status").status == 0)
        #expect(eventually(within: .seconds(5)) { Self.descriptorCount(server.program.pid) == before })
        #expect(try server.stop() == 0)
    }
}
