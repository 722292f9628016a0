import Foundation
import Glibc
import Testing

/// Snapshots what a run must leave as it found it — open descriptors, the calling thread's
/// signal mask, the handlers of the usual stop signals — and checks that no child of this
/// process is left, running or zombie.
struct ProcessHygiene {
    static let watchedSignals: [CInt] = [SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP]

    let descriptors: Int
    /// What each descriptor was open on at the start (for the message when the count differs).
    let openFiles: [String]
    let mask: sigset_t
    let handlers: [CInt: UInt]

    init() {
        descriptors = Self.openDescriptors()
        openFiles = Self.openFiles()
        mask = Self.currentMask()
        handlers = Self.currentHandlers()
    }

    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// Each open descriptor and what it is open on, `N -> target`.
    static func openFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.map { name in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) ?? "?"
            return "\(name) -> \(target)"
        }
    }

    static func currentMask() -> sigset_t {
        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        return mask
    }

    static func currentHandlers() -> [CInt: UInt] {
        var handlers: [CInt: UInt] = [:]
        for signal in watchedSignals {
            var action = sigaction()
            sigaction(signal, nil, &action)
            handlers[signal] = unsafeBitCast(action.__sigaction_handler.sa_handler, to: UInt.self)
        }
        return handlers
    }

    /// Whether this process has any child at all (running or zombie).
    static func hasChildren() -> Bool {
        var info = siginfo_t()
        let result = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)
        return result == 0
    }

    /// Checks the run left nothing behind.
    func check(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!Self.hasChildren(), "a child process was left behind", sourceLocation: sourceLocation)
        let after = Self.openDescriptors()
        if after != descriptors {
            let files = Self.openFiles()
            let closed = openFiles.filter { !files.contains($0) }
            let opened = files.filter { !openFiles.contains($0) }
            Issue.record(
                "descriptors: \(descriptors) before, \(after) after; gone: \(closed); new: \(opened)",
                sourceLocation: sourceLocation)
        }
        var now = Self.currentMask()
        var before = mask
        let same = withUnsafeBytes(of: &now) { a in withUnsafeBytes(of: &before) { b in a.elementsEqual(b) } }
        #expect(same, "the signal mask changed", sourceLocation: sourceLocation)
        #expect(Self.currentHandlers() == handlers, "signal handlers changed", sourceLocation: sourceLocation)
    }
}

/// Whether a process with this pid exists (zombies count as gone only once reaped by someone).
func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}

/// Waits up to `limit` for every pid to be gone.
func waitUntilGone(_ pids: [pid_t], limit: Duration = .seconds(1)) -> [pid_t] {
    let deadline = ContinuousClock.now + limit
    while true {
        let alive = pids.filter { processExists($0) && !isZombie($0) }
        if alive.isEmpty || ContinuousClock.now >= deadline { return alive }
        usleep(10_000)
    }
}

/// Whether a pid is a zombie (ended, not yet reaped by its parent).
func isZombie(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
}

/// The path of the test worker program, built next to the test bundle.
let helperExecutable: String = {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var directory = URL(fileURLWithPath: bundle).deletingLastPathComponent()
    // The bundle is .build/<config>/CorralPackageTests.xctest (a file on Linux).
    if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
    return directory.appendingPathComponent("corral-test-worker").path
}()

/// A fresh directory for worker records, removed at the end.
final class RecordDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "corral-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The `key=value` lines slot `index` wrote.
    func lines(_ index: Int) -> [String] {
        ((try? String(contentsOfFile: "\(path)/\(index).txt", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// The value of the first `key=` line of slot `index`.
    func value(_ key: String, _ index: Int) -> String? {
        lines(index).first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The parent pid of a process, from /proc; nil if it is gone.
func parentOf(_ pid: pid_t) -> pid_t? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
    return fields.count > 1 ? pid_t(fields[1]) : nil
}

/// The running (not zombie) processes whose process group is `group`, from /proc.
func runningMembers(ofGroup group: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { name -> pid_t? in
        guard let pid = pid_t(name),
            let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.count > 2 && fields[0] != "Z" && pid_t(fields[2]) == group ? pid : nil
    }
}

/// A flag one thread sets and another reads.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    func set() { lock.withLock { value = true } }
}
