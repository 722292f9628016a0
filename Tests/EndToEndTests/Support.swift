import Foundation
import Testing

/// The built `corral` binary, next to the test bundle.
let corralExecutable: String = {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var directory = URL(fileURLWithPath: bundle).deletingLastPathComponent()
    if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
    return directory.appendingPathComponent("corral").path
}()

/// A TCP socket on 127.0.0.1 with a port the kernel picked; listening when asked.
func loopbackSocket(listening: Bool) -> (descriptor: CInt, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            guard bind(fd, pointer, length) == 0, !listening || listen(fd, 1) == 0 else { return CInt(-1) }
            return getsockname(fd, pointer, &length)
        }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
func freePort() -> Int {
    let (fd, port) = loopbackSocket(listening: false)
    close(fd)
    return port
}

/// A program started for a test, its output going to files.
///
/// Not Foundation's `Process`: it hands children the calling thread's signal mask, which on a
/// test runner's worker thread blocks SIGTERM, SIGHUP and SIGCHLD (a tmux server started that way
/// never reaps and cannot be stopped). Output goes through files, not pipes, so a program that
/// leaves a daemon behind (tmux starting its server) cannot keep a reader waiting.
final class RunningProgram {
    let pid: pid_t
    private let outPath: String
    private let errPath: String
    private var status: Int32?

    /// Starts `path`; its standard output goes to `output` (a FIFO the test reads, say) when
    /// given, else to a file.
    init(_ path: String, _ arguments: [String], output: String? = nil) throws {
        let directory = FileManager.default.temporaryDirectory
        outPath = directory.appendingPathComponent("corral-e2e-out-\(UUID().uuidString)").path
        errPath = directory.appendingPathComponent("corral-e2e-err-\(UUID().uuidString)").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        self.pid = pid
    }

    /// Waits for the exit (bounded: SIGKILL after `timeout`); returns the exit status, or 128 + signal.
    @discardableResult
    func wait(timeout: Duration = .seconds(30)) -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while waitpid(pid, &raw, WNOHANG) == 0 {
            if ContinuousClock.now >= deadline {
                Issue.record("pid \(pid) did not finish in \(timeout)")
                kill(pid, SIGKILL)
                waitpid(pid, &raw, 0)
                break
            }
            usleep(10_000)
        }
        let decoded = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        status = decoded
        return decoded
    }

    /// Standard output so far.
    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    /// Standard error so far.
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            wait()
        }
        unlink(outPath)
        unlink(errPath)
    }
}

/// Runs a program to completion (bounded) and returns its exit status and output.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], timeout: Duration = .seconds(30)) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let program = try RunningProgram(path, arguments)
    let status = program.wait(timeout: timeout)
    return (status, program.stdout, program.stderr)
}

/// Polls `condition` every 50 ms until it holds or `limit` passes; returns whether it held.
func eventually(within limit: Duration, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// An HTTP GET to 127.0.0.1 with curl; the body, or "" on failure.
func curl(_ port: Int) -> String {
    (try? runProgram("/usr/bin/curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/"]).stdout) ?? ""
}

/// Whether a process has ended: no such pid, or a zombie nobody reaped yet (a process whose
/// parent died is re-parented to PID 1, which may be slow to reap, or, in a sandbox, never).
func hasEnded(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
}

/// The pids whose parent is `parent`, from /proc.
func childrenOf(_ parent: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == parent
    }
}

/// Whether a process is alive and not a zombie.
func isRunningState(_ pid: pid_t) -> Bool { !hasEnded(pid) }

/// The pids of the `spawned` lines of a `--no-tui` log.
func spawnedPids(_ log: String) -> [pid_t] {
    log.split(separator: "\n").compactMap { line -> pid_t? in
        guard line.hasSuffix(" spawned"), let field = line.split(separator: " ").first(where: { $0.hasPrefix("pid=") })
        else { return nil }
        return pid_t(field.dropFirst(4))
    }
}

/// Running processes (not zombies) with `argument` among their arguments, from /proc.
func processes(withArgument argument: String) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == argument } && !hasEnded(pid)
    }
}

/// A FIFO in a fresh temporary directory, opened for reading (without blocking) by the test,
/// so a program can write into it while the test reads slowly, stops reading, or closes it.
final class Pipeline {
    let directory: String
    let path: String
    private(set) var reader: CInt

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("corral-fifo-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        path = directory + "/out"
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.EIO) }
        reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard reader >= 0 else { throw POSIXError(.EIO) }
    }

    /// Reads until a first newline has arrived (bounded), like `head -1`; returns that line.
    func firstLine(within limit: Duration) -> String? {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + limit
        var byte: UInt8 = 0
        while ContinuousClock.now < deadline {
            let count = read(reader, &byte, 1)
            if count == 1 {
                if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            } else {
                usleep(5_000)
            }
        }
        return nil
    }

    /// Reads lines until `done` holds for the lines read so far (bounded); returns whether it did.
    func readLines(within limit: Duration, until done: ([String]) -> Bool) -> Bool {
        var lines: [String] = []
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard let line = firstLine(within: ContinuousClock.now.duration(to: deadline)) else { return false }
            lines.append(line)
            if done(lines) { return true }
        }
        return false
    }

    /// Whether the pipe holds at least `bytes` unread bytes (FIONREAD), waiting up to `limit`.
    func holds(_ bytes: Int32, within limit: Duration) -> Bool {
        eventually(within: limit) {
            var unread: Int32 = 0
            return ioctl(reader, UInt(FIONREAD), &unread) == 0 && unread >= bytes
        }
    }

    /// Closes the reading end: the writer gets EPIPE from now on.
    func closeReader() {
        if reader >= 0 { close(reader) }
        reader = -1
    }

    deinit {
        closeReader()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The JSON objects a `--json` corral printed so far, one a line.
func jsonEvents(_ corral: RunningProgram) -> [[String: Any]] {
    corral.stdout.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}

/// Binds a Unix socket of `type` at `path`, listening if asked; returns its descriptor. Closed
/// unlistened, it is what a killed process leaves: a socket file nothing answers on.
func bindUnix(_ path: String, type: __socket_type = SOCK_STREAM, listening: Bool = false) -> CInt {
    let fd = socket(AF_UNIX, Int32(type.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    if listening { listen(fd, 8) }
    return fd
}
