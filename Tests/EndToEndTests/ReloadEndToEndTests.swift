import CorralLoad
import CorralTestSupport
import Foundation
import Synchronization
import Testing

/// Rolling reloads of the real binary: SIGHUP without a controlling terminal, under load.
@Suite("corral reload", .processExclusive)
struct ReloadEndToEndTests {
    /// An HTTP server on the inherited socket (fd 3): READY=1 when it serves (only with
    /// SEND_READY set: otherwise an unmodified program), a clean exit on SIGTERM; it fails its
    /// init (exit 3) while the file named by FAIL_INIT exists.
    static let server = """
        import os, socket, signal, sys, threading, time
        listener = socket.socket(fileno=3)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        time.sleep(0.2)
        if os.path.exists(os.environ["FAIL_INIT"]):
            sys.exit(3)
        listener.settimeout(0.1)
        if os.environ.get("SEND_READY"):
            addr = os.environ["NOTIFY_SOCKET"]
            notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify.sendto(b"READY=1", "\\0" + addr[1:] if addr.startswith("@") else addr)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            conn.settimeout(2)
            try:
                conn.recv(4096)
                body = ("pid %d\\n" % os.getpid()).encode()
                conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
            finally:
                conn.close()
        """

    /// corral in a session of its own, serving on `port` with 3 workers that are ready as
    /// `readiness` says (`notify`: they send READY=1; otherwise they are unmodified); its JSON
    /// events.
    func startCorral(
        port: Int, script: String, marker: String, readiness: String, options: [String] = []
    ) throws -> RunningProgram {
        try RunningProgram(
            "/usr/bin/setsid",
            [
                corralExecutable, "--json", "-w", "3", "--ready", readiness, "--listen", "127.0.0.1:\(port)",
                "--wait-timeout", "5",
            ] + options + [
                "--", "env", "FAIL_INIT=\(marker)", readiness == "notify" ? "SEND_READY=1" : "NO_READY=1", "python3",
                script,
            ])
    }

    /// The folder of this test process's server script and marker, removed when the process exits.
    static let directory: URL = {
        atexit { try? FileManager.default.removeItem(at: ReloadEndToEndTests.directory) }
        return FileManager.default.temporaryDirectory.appendingPathComponent("corral-reload-\(getpid())")
    }()

    func files() throws -> (script: String, marker: String) {
        let directory = Self.directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("server.py").path
        try Self.server.write(toFile: script, atomically: true, encoding: .utf8)
        let marker = directory.appendingPathComponent("fail").path
        unlink(marker)
        return (script, marker)
    }

    @Test(
        "SIGHUP under load: every worker replaced new before old, 0 failed requests, the old pids gone",
        arguments: [["notify"], ["exec"], ["exec", "--reload-batch", "all"]])
    func zeroDowntime(options: [String]) throws {
        let (script, marker) = try files()
        let port = freePort()
        let corral = try startCorral(
            port: port, script: script, marker: marker, readiness: options[0], options: Array(options.dropFirst()))
        let running = eventually(within: .seconds(15)) {
            jsonEvents(corral).contains { $0["event"] as? String == "server" && $0["state"] as? String == "running" }
        }
        #expect(running, "\(corral.stdout)\n\(corral.stderr)")
        let before = jsonEvents(corral).filter { $0["event"] as? String == "spawned" }.compactMap { $0["pid"] as? Int }
        let load = LoopbackLoad(port: port)
        // Requests are flowing before the reload starts.
        #expect(eventually(within: .seconds(5)) { LoopbackLoad.get(port: port) })
        kill(corral.pid, SIGHUP)
        let done = eventually(within: .seconds(20)) {
            jsonEvents(corral).contains { $0["event"] as? String == "reload" && $0["phase"] as? String == "done" }
        }
        // Every old process has ended before the load stops.
        let oldGone = eventually(within: .seconds(10)) {
            jsonEvents(corral).filter { $0["event"] as? String == "exited" && $0["generation"] as? Int == 0 }.count == 3
        }
        let (ok, failed) = load.finish()
        #expect(done, "\(corral.stdout)")
        #expect(oldGone)
        #expect(failed == 0, "\(failed) of \(ok + failed) requests failed during the reload")
        #expect(ok > 0)
        let all = jsonEvents(corral)
        let replaced = all.filter { $0["event"] as? String == "spawned" && $0["generation"] as? Int == 1 }
        #expect(Set(replaced.compactMap { $0["index"] as? Int }) == [0, 1, 2])
        #expect(all.contains { $0["event"] as? String == "reload" && $0["replaced"] as? Int == 3 })
        let reloadSignals = all.filter { $0["event"] as? String == "signal" && $0["reason"] as? String == "reload" }
        #expect(Set(reloadSignals.compactMap { $0["pid"] as? Int }) == Set(before))
        if options.contains("all") {
            // Every new worker starts at once, beside the old ones: all spawned before the first old one stops.
            let lastSpawn = try #require(
                all.lastIndex { $0["event"] as? String == "spawned" && $0["generation"] as? Int == 1 })
            let firstStop = try #require(
                all.firstIndex { $0["event"] as? String == "signal" && $0["reason"] as? String == "reload" })
            #expect(lastSpawn < firstStop)
        }
        #expect(before.allSatisfy { hasEnded(pid_t($0)) })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test(
        "a reload whose new generation fails its init rolls back: the old workers keep serving, 0 failed",
        arguments: ["notify", "exec"])
    func rollback(readiness: String) throws {
        let (script, marker) = try files()
        let port = freePort()
        let corral = try startCorral(port: port, script: script, marker: marker, readiness: readiness)
        #expect(
            eventually(within: .seconds(15)) {
                jsonEvents(corral).contains {
                    $0["event"] as? String == "server" && $0["state"] as? String == "running"
                }
            })
        let before = jsonEvents(corral).filter { $0["event"] as? String == "spawned" }.compactMap { $0["pid"] as? Int }
        #expect(FileManager.default.createFile(atPath: marker, contents: nil))
        let load = LoopbackLoad(port: port)
        #expect(eventually(within: .seconds(5)) { LoopbackLoad.get(port: port) })
        kill(corral.pid, SIGHUP)
        let rolledBack = eventually(within: .seconds(20)) {
            jsonEvents(corral).contains {
                $0["event"] as? String == "reload" && $0["phase"] as? String == "rolled_back"
            }
        }
        let (ok, failed) = load.finish()
        #expect(rolledBack, "\(corral.stdout)")
        #expect(failed == 0, "\(failed) of \(ok + failed) requests failed")
        #expect(before.allSatisfy { !hasEnded(pid_t($0)) }, "an old worker was stopped")
        let signalledOld = jsonEvents(corral).filter {
            $0["event"] as? String == "signal" && before.contains($0["pid"] as? Int ?? -1)
        }
        #expect(signalledOld.isEmpty, "an old worker was signalled: \(signalledOld)")
        #expect(!jsonEvents(corral).contains { $0["event"] as? String == "stopping" }, "corral stopped")
        // Every view tells the truth: the slot's process is the old one again, running.
        let reinstated = jsonEvents(corral).filter { $0["event"] as? String == "reinstated" }
        #expect(reinstated.compactMap { $0["pid"] as? Int }.allSatisfy(before.contains) && !reinstated.isEmpty)
        let rollback = try #require(
            jsonEvents(corral).first { $0["event"] as? String == "reload" && $0["phase"] as? String == "rolled_back" })
        #expect((rollback["failed_exit"] as? [String: Any])?["code"] as? Int == 3, "\(rollback)")
        unlink(marker)
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("SIGTTIN and SIGTTOU from another process scale up and down by one worker")
    func scaleBySignal() throws {
        let corral = try RunningProgram(corralExecutable, ["--json", "-w", "2", "--", "sleep", "1000"])
        #expect(
            eventually(within: .seconds(10)) {
                jsonEvents(corral).contains {
                    $0["event"] as? String == "server" && $0["state"] as? String == "running"
                }
            })
        kill(corral.pid, SIGTTIN)
        let up = eventually(within: .seconds(10)) {
            jsonEvents(corral).contains {
                $0["event"] as? String == "state" && $0["index"] as? Int == 2 && $0["state"] as? String == "running"
            }
        }
        #expect(up, "\(corral.stdout)")
        kill(corral.pid, SIGTTOU)
        let down = eventually(within: .seconds(10)) {
            jsonEvents(corral).contains { $0["event"] as? String == "exited" && $0["index"] as? Int == 2 }
        }
        #expect(down, "\(corral.stdout)")
        let all = jsonEvents(corral)
        #expect(all.filter { $0["event"] as? String == "scale" }.compactMap { $0["workers"] as? Int } == [3, 2])
        #expect(
            all.contains {
                $0["event"] as? String == "signal" && $0["index"] as? Int == 2 && $0["reason"] as? String == "scale"
            })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }

    @Test("under systemd (NOTIFY_SOCKET): READY=1, then RELOADING=1 with MONOTONIC_USEC and READY=1 around a reload")
    func notifyReload() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corral-notify-\(getpid()).sock").path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer {
            close(fd)
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func next() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
        }
        let corral = try RunningProgram(
            "/usr/bin/env",
            ["NOTIFY_SOCKET=\(path)", "/usr/bin/setsid", corralExecutable, "--json", "-w", "2", "--", "sleep", "1000"])
        var messages: [String] = []
        while !messages.contains(where: { $0.contains("READY=1") }) {
            let message = next()
            if message.isEmpty { break }
            messages.append(message)
        }
        #expect(messages.contains { $0.contains("READY=1") }, "\(messages)")
        kill(corral.pid, SIGHUP)
        var afterReload: [String] = []
        while !afterReload.contains(where: { $0.contains("READY=1") }) {
            let message = next()
            if message.isEmpty { break }
            afterReload.append(message)
        }
        let reloading = try #require(afterReload.firstIndex { $0.contains("RELOADING=1") }, "\(afterReload)")
        let ready = try #require(afterReload.firstIndex { $0.contains("READY=1") }, "\(afterReload)")
        #expect(reloading < ready, "\(afterReload)")
        #expect(afterReload.contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
    }
}
