import CorralTestSupport
import Foundation
import Testing

/// `--listen` and socket activation: the sockets every worker gets, in systemd's convention.
@Suite("corral --listen", .processExclusive)
struct ListenEndToEndTests {
    /// A worker that prints what it was handed: the variables, and what fd 3, 4 and 5 are.
    static let describe = """
        echo "fds=$LISTEN_FDS names=$LISTEN_FDNAMES pid=$LISTEN_PID self=$$"
        for fd in 3 4 5; do [ -e /proc/self/fd/$fd ] && echo "fd$fd=$(readlink /proc/self/fd/$fd)"; done
        exec sleep 1000
        """

    @Test("TCP, IPv6 and unix sockets: fds from 3 in the order given, names, LISTEN_PID the child's own pid")
    func environment() throws {
        let port = freePort()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corral-listen-\(getpid()).sock").path
        unlink(path)
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--no-tui", "--no-timestamps", "-w", "2", "--listen", "127.0.0.1:\(port)", "--listen",
                "web=unix:\(path)", "--", "sh",
                "-c", Self.describe,
            ])
        let lines = { corral.stdout.split(separator: "\n").map(String.init) }
        let told = eventually(within: .seconds(10)) { lines().filter { $0.contains("fd4=socket:") }.count == 2 }
        #expect(told, "\(corral.stdout)\n\(corral.stderr)")
        for worker in 0..<2 {
            let prefix = "worker.\(worker) | "
            let own = lines().filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            let variables = try #require(own.first { $0.hasPrefix("fds=") })
            #expect(variables.hasPrefix("fds=2 names=listen0:web pid="))
            let pids = variables.split(separator: " ").filter { $0.hasPrefix("pid=") || $0.hasPrefix("self=") }
                .map { $0.split(separator: "=").last.map(String.init) ?? "" }
            #expect(pids.count == 2 && pids[0] == pids[1], "LISTEN_PID is not the worker's own pid: \(variables)")
            #expect(own.contains { $0.hasPrefix("fd3=socket:") })
            #expect(!own.contains { $0.hasPrefix("fd5=") }, "a third descriptor was inherited")
        }
        // Both are real listening sockets.
        #expect(connects(port: port))
        var status = stat()
        #expect(stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK)
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        #expect(access(path, F_OK) != 0, "the unix socket corral created was not removed")
    }

    @Test("a port in use, a bad address, --listen without a command: status 64 and what to fix, nothing started")
    func badInput() throws {
        let (taken, port) = loopbackSocket(listening: true)
        defer { close(taken) }
        let inUse = try runProgram(corralExecutable, ["--no-tui", "--listen", "127.0.0.1:\(port)", "--", "true"])
        #expect(inUse.status == 64)
        #expect(inUse.stderr.contains("port \(port) is in use; choose another"), "\(inUse.stderr)")
        #expect(!inUse.stdout.contains("spawned"))
        let name = try runProgram(corralExecutable, ["--no-tui", "--listen", "example.com:80", "--", "true"])
        #expect(name.status == 64)
        #expect(name.stderr.contains("'example.com' is not an IP address"), "\(name.stderr)")
        let demo = try runProgram(corralExecutable, ["--no-tui", "--listen", "127.0.0.1:8000"])
        #expect(demo.status == 64)
        #expect(demo.stderr.contains("give the command after --"), "\(demo.stderr)")
    }

    @Test(
        "socket activation: the sockets corral was started with go to every worker, with their names",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate")))
    func passThrough() throws {
        let port = freePort()
        let activate = try RunningProgram(
            "/usr/bin/systemd-socket-activate",
            [
                "-l", "127.0.0.1:\(port)", "--fdname=api", corralExecutable, "--no-tui", "-w", "2", "--",
                "sh", "-c", Self.describe,
            ])
        // It listens, and starts corral at the first connection.
        #expect(eventually(within: .seconds(10)) { connects(port: port) })
        let told = eventually(within: .seconds(10)) {
            activate.stdout.split(separator: "\n").filter { $0.contains("fds=1 names=api ") }.count == 2
        }
        #expect(told, "\(activate.stdout)\n\(activate.stderr)")
        kill(activate.pid, SIGTERM)
        #expect(activate.wait() == 0, "\(activate.stdout)")
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted by the kernel (the backlog).
    func connects(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
