import CorralTestSupport
import Foundation
import Testing

/// The control socket of the real binary: `corral ctl`, `corral ls`, and what a client may not
/// do to a server.
@Suite("corral ctl and ls", .processExclusive)
struct ControlEndToEndTests {
    /// A fresh directory for sockets (0700), removed at the end.
    final class SocketDirectory {
        let path: String

        init() throws {
            path =
                FileManager.default.temporaryDirectory.appendingPathComponent("corral-ctl-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }

        var socket: String { path + "/c.sock" }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A headless corral with its control socket at a given path.
    final class Server {
        let program: RunningProgram
        let socket: String

        init(socket: String, _ arguments: [String], json: Bool = false) throws {
            self.socket = socket
            program = try RunningProgram(
                corralExecutable, [json ? "--json" : "--no-tui", "--control", socket] + arguments)
            #expect(eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: socket) })
        }

        /// Runs `corral ctl --socket … arguments`.
        func ctl(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(corralExecutable, ["ctl", "--socket", socket] + arguments)
        }

        /// `ctl status --json`, decoded.
        func status() throws -> [String: Any] {
            let result = try ctl("status", "--json")
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(
                JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        }

        /// The processes of `ctl status --json`.
        func processes() throws -> [[String: Any]] {
            try status()["processes"] as? [[String: Any]] ?? []
        }

        /// Stops the server and waits for it.
        func stop() throws -> Int32 {
            _ = try ctl("stop")
            return program.wait()
        }

        deinit {
            if !hasEnded(program.pid) { kill(program.pid, SIGTERM) }
            program.wait()
        }
    }

    @Test("ctl status: the pids and states the engine reports; ls lists the corral")
    func status() throws {
        let directory = try SocketDirectory()
        let server = try Server(socket: directory.socket, ["--workers", "3", "--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 3 })
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("corral running") })
        let json = try server.status()
        let processes = json["processes"] as? [[String: Any]] ?? []
        #expect(processes.compactMap { $0["pid"] as? Int }.map { pid_t($0) } == spawnedPids(server.program.stdout))
        #expect(processes.map { $0["state"] as? String } == ["running", "running", "running"])
        #expect(processes.map { $0["index"] as? Int } == [0, 1, 2])
        #expect(processes.allSatisfy { $0["kind"] as? String == "worker" && $0["generation"] as? Int == 0 })
        let serverObject = json["server"] as? [String: Any] ?? [:]
        #expect(serverObject["pid"] as? Int == Int(server.program.pid))
        #expect(serverObject["state"] as? String == "running")
        #expect(serverObject["workers"] as? Int == 3)

        let table = try server.ctl("status")
        #expect(table.status == 0)
        for (index, pid) in spawnedPids(server.program.stdout).enumerated() {
            #expect(table.stdout.contains("\(pid)  worker.\(index)  running"), "\(table.stdout)")
        }
        #expect(try server.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: directory.socket), "the socket is removed at the end")
    }

    @Test("ctl status --ready: 1 and why while a process is not running, 0 once all are, 1 again after a crash")
    func readyProbe() throws {
        let directory = try SocketDirectory()
        let marker = directory.path + "/go"
        // worker.1 is ready only once the marker exists; worker.0 at once.
        let script =
            "if [ $CORRAL_PROCESS_INDEX = 1 ]; then while [ ! -e \(marker) ]; do sleep 0.05; done; fi; "
            + "echo up; exec sleep 60"
        let server = try Server(
            socket: directory.socket, ["-w", "2", "--ready", "log:up", "--keep-running", "--", "sh", "-c", script])
        defer {
            kill(server.program.pid, SIGKILL)
            server.program.wait()
        }
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("worker.0 pid=") })
        let starting = try server.ctl("status", "--ready")
        #expect(starting.status == 1)
        #expect(starting.stderr.contains("not ready: the server is starting"), "\(starting.stderr)")
        #expect(FileManager.default.createFile(atPath: marker, contents: nil))
        #expect(eventually(within: .seconds(10)) { (try? server.ctl("status", "--ready").status) == 0 })
        let ready = try server.ctl("status", "--ready")
        #expect(ready.stdout.contains("ready: 2/2 running"), "\(ready.stdout)")
        let processes = try server.processes()
        let pid = try #require(processes.first { $0["name"] as? String == "worker.1" }?["pid"] as? Int)
        kill(pid_t(pid), SIGKILL)
        #expect(
            eventually(within: .seconds(10)) {
                (try? server.ctl("status", "--ready"))?.stderr.contains("worker.1 is exited") == true
            })
        #expect(try server.stop() == 1)
    }

    @Test("ctl signal --index reaches exactly that process; a refused command exits 1 and says why")
    func signalOne() throws {
        let directory = try SocketDirectory()
        let script = "trap 'echo got USR1 $CORRAL_PROCESS_INDEX' USR1; while :; do sleep 0.05; done"
        let server = try Server(socket: directory.socket, ["--workers", "3", "--", "sh", "-c", script], json: true)
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("\"state\":\"running\"}\n") })
        #expect(eventually(within: .seconds(10)) { (try? server.processes().count) == 3 })
        let sent = try server.ctl("signal", "USR1", "--index", "1")
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("SIGUSR1 to worker.1"))
        #expect(eventually(within: .seconds(10)) { server.program.stdout.contains("got USR1 1") })
        usleep(300_000)
        let lines = server.program.stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains("got USR1") }.count == 1)
        #expect(lines.filter { $0.contains("\"event\":\"signal\"") }.count == 1)

        let refused = try server.ctl("signal", "TERM", "--index", "9")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("no process 9"))
        let badSignal = try server.ctl("signal", "NOPE")
        #expect(badSignal.status == 64)
        #expect(try server.stop() == 0)
    }

    @Test("ctl restart, scale and stop act on the server")
    func restartScaleStop() throws {
        let directory = try SocketDirectory()
        let server = try Server(socket: directory.socket, ["--workers", "2", "--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(server.program.stdout).count == 2 })
        let first = spawnedPids(server.program.stdout)
        #expect(try server.ctl("restart", "0").status == 0)
        #expect(
            eventually(within: .seconds(10)) {
                let processes = (try? server.processes()) ?? []
                return processes.first?["generation"] as? Int == 1 && processes.first?["state"] as? String == "running"
            })
        let restarted = try server.processes()
        #expect(restarted[0]["pid"] as? Int != Int(first[0]))
        #expect(restarted[1]["pid"] as? Int == Int(first[1]))
        #expect(restarted[0]["restarts"] as? Int == 1)

        #expect(try server.ctl("scale", "3").status == 0)
        #expect(
            eventually(within: .seconds(10)) {
                ((try? server.processes()) ?? []).filter { $0["state"] as? String == "running" }.count == 3
            })
        #expect(try server.ctl("scale", "0").status == 64)
        let stop = try server.ctl("stop")
        #expect(stop.status == 0)
        #expect(server.program.wait() == 0)
        #expect(server.program.stdout.contains("stop requested"))
        #expect(try server.ctl("status").status == 69, "nothing answers once it stopped")
    }

    @Test("the first JSON event is server starting with the socket's path; --no-tui's first line names it")
    func pathIsTold() throws {
        let directory = try SocketDirectory()
        let json = try runProgram(corralExecutable, ["--json", "--control", directory.socket, "--", "true"])
        let first = json.stdout.split(separator: "\n").first.map(String.init) ?? ""
        let object = try #require(JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "server")
        #expect(object["state"] as? String == "starting")
        #expect(object["control"] as? String == directory.socket)

        let log = try runProgram(corralExecutable, ["--no-tui", "--control", directory.socket, "--", "true"])
        #expect(log.stdout.split(separator: "\n").first?.contains("control socket \(directory.socket)") == true)
        let off = try runProgram(corralExecutable, ["--json", "--no-control", "--", "true"])
        #expect(off.stdout.split(separator: "\n").first?.contains("\"control\":null") == true)
    }

    @Test("a socket left by a SIGKILLed corral is replaced; a live one or a file is never taken over")
    func staleSocket() throws {
        let directory = try SocketDirectory()
        let killed = try Server(socket: directory.socket, ["--", "sleep", "60"])
        #expect(eventually(within: .seconds(10)) { spawnedPids(killed.program.stdout).count == 1 })
        let live = try runProgram(corralExecutable, ["--no-tui", "--control", directory.socket, "--", "true"])
        #expect(live.status == 64)
        #expect(live.stderr.contains("another corral is listening"))
        kill(killed.program.pid, SIGKILL)
        killed.program.wait()
        #expect(FileManager.default.fileExists(atPath: directory.socket), "SIGKILL leaves the socket")
        #expect(try runProgram(corralExecutable, ["ctl", "--socket", directory.socket, "status"]).status == 69)
        let next = try runProgram(corralExecutable, ["--no-tui", "--control", directory.socket, "--", "true"])
        #expect(next.status == 1, "every process ended by itself: \(next.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.socket))

        let file = directory.path + "/file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("keep".utf8)))
        let refused = try runProgram(corralExecutable, ["--no-tui", "--control", file, "--", "true"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("not a socket"))
        #expect(FileManager.default.contents(atPath: file) == Data("keep".utf8))
        let missing = try runProgram(
            corralExecutable, ["--no-tui", "--control", directory.path + "/no/c.sock", "--", "true"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("does not exist"))
    }

    @Test("the default directory: made 0700, refused with the wrong mode or owner; ls lists and cleans up")
    func defaultDirectory() throws {
        // Run as nobody when the tests run as root, so that no other corral of the same user can
        // be found alongside; otherwise as this user: ls and ctl look in the runtime directory
        // first, where only this corral is.
        let isolated = OtherUser.isAvailable
        let owner: uid_t = isolated ? OtherUser.uid : getuid()
        let runtime = try SocketDirectory()
        chown(runtime.path, owner, owner)
        let user = isolated ? OtherUser.prefix : []
        let env =
            user + ["/usr/bin/env", "XDG_RUNTIME_DIR=\(runtime.path)", isolated ? OtherUser.corral : corralExecutable]
        func corral(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(env[0], Array(env.dropFirst()) + arguments)
        }
        // A socket nothing listens on, as a SIGKILLed corral leaves it.
        let directory = runtime.path + "/corral"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        chown(directory, owner, owner)
        let stale = directory + "/99999999.sock"
        close(bindUnix(stale))
        chown(stale, owner, owner)
        #expect(FileManager.default.fileExists(atPath: stale))

        let server = try RunningProgram(
            env[0], Array(env.dropFirst()) + ["--no-tui", "--ready-after", "0", "--", "sleep", "60"])
        defer {
            kill(server.pid, SIGTERM)
            server.wait()
        }
        let socket = directory + "/\(server.pid).sock"
        #expect(eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: socket) })
        #expect(server.stdout.split(separator: "\n").first?.contains(socket) == true)
        let listed = try corral("ls")
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("\(server.pid)  running"), "\(listed.stdout)")
        #expect(listed.stdout.contains(socket))
        #expect(!listed.stdout.contains("99999999"))
        #expect(!FileManager.default.fileExists(atPath: stale), "ls removes a stale socket")
        if isolated {
            // With one corral running, ctl needs neither --socket nor --pid.
            let only = try corral("ctl", "status")
            #expect(only.stdout.contains("corral pid \(server.pid)"), "\(only.stderr)")
        }
        #expect(try corral("ctl", "--pid", "\(server.pid)", "status").status == 0)
        kill(server.pid, SIGTERM)
        #expect(server.wait() == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))
        #expect(try corral("ctl", "--pid", "\(server.pid)", "status").status == 69)
        if isolated { #expect(try corral("ctl", "status").status == 69) }

        chmod(directory, 0o755)
        let open = try corral("--no-tui", "--", "true")
        #expect(open.status == 64)
        #expect(open.stderr.contains("mode 755"))
        chmod(directory, 0o700)
        let stranger: uid_t = isolated ? 0 : 65534
        // Only root can hand the directory to another user.
        if getuid() == 0 {
            chown(directory, stranger, stranger)
            let foreign = try corral("--no-tui", "--", "true")
            #expect(foreign.status == 64)
            #expect(foreign.stderr.contains("belongs to uid \(stranger)"), "\(foreign.stderr)")
            chown(directory, owner, owner)
        }
    }

    @Test("corral -- ls runs a command named ls")
    func commandNamedLikeAClient() throws {
        let result = try runProgram(corralExecutable, ["--no-tui", "--no-control", "--", "ls", "/"])
        #expect(result.stdout.contains("worker.0 | bin") || result.stdout.contains("worker.0 | etc"))
        #expect(result.status == 1, "every process ended by itself")
    }
}
