import Glibc
import SystemPackage

/// The started children, by pid: their pidfds, output pipes and line buffers, watched in one
/// ``ChildWatch`` set. Reads their output into lines, reaps the ones the supervisor exec'ed
/// through their pidfds, signals their process groups and closes what they leave. Each slot has
/// one current process; a slot under a rolling reload also has the outgoing one its new process
/// replaces, kept here by its pid like any other until it has ended.
final class ChildTable {
    /// A started child and its descriptors.
    struct Child {
        let slot: Int
        let pid: pid_t
        var pidfd: CInt?
        /// Forked by the zygote: its exit is reported by the zygote, not read with waitid.
        var viaZygote = false
        /// Its exit was reported to the core.
        var ended = false
        var output: [ChildStream: CInt]
        var lines: [ChildStream: OutputLineBuffer] = [.stdout: OutputLineBuffer(), .stderr: OutputLineBuffer()]
        /// The last standard error lines, for the report of its end.
        var lastErrors: [String] = []

        /// A child started for `slot` whose output comes from the read ends in `output`.
        init(slot: Int, pid: pid_t, pidfd: CInt? = nil, viaZygote: Bool = false, output: [ChildStream: CInt]) {
            self.slot = slot
            self.pid = pid
            self.pidfd = pidfd
            self.viaZygote = viaZygote
            self.output = output
        }

        mutating func keepError(_ line: String) {
            if lastErrors.count == SlotEnd.lastLinesKept { lastErrors.removeFirst() }
            lastErrors.append(line.count > 512 ? String(line.prefix(512)) + "…" : line)
        }

        mutating func modify(_ change: (inout Child) -> Void) { change(&self) }

        /// Closes its pipes and pidfd.
        func close() {
            for fd in output.values { Syscalls.close(fd) }
            if let pidfd { Syscalls.close(pidfd) }
        }
    }

    private var children: [pid_t: Child] = [:]
    /// Each slot's current process.
    private var current: [Int: pid_t] = [:]
    /// Their pipes and pidfds, in one epoll set (the pidfds of zygote-forked workers only once
    /// the zygote, which reports their exits, is gone).
    private let watch: ChildWatch
    private(set) var watchesForkedExits = false
    /// The front end cannot take more output: no pipe is watched (the children wait, as for a
    /// slow terminal), only exits.
    private(set) var outputHeld = false
    /// One read buffer for every pipe.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// An empty table.
    init() throws(SystemCallError) {
        watch = try ChildWatch()
    }

    deinit {
        for child in children.values { child.close() }
        readBuffer.deallocate()
    }

    /// The descriptor to poll: readable when a pipe or watched pidfd is.
    var descriptor: CInt { watch.descriptor }

    /// The current process of `slot`, if it was started.
    subscript(slot: Int) -> Child? { current[slot].flatMap { children[$0] } }

    /// The child `pid`, current or outgoing.
    func child(pid: pid_t) -> Child? { children[pid] }

    /// Changes the child in place (no copy of its line buffers).
    private func update(_ pid: pid_t, _ change: (inout Child) -> Void) {
        children[pid]?.modify(change)
    }

    /// The process groups of every child not reaped yet (current and outgoing processes).
    var liveGroups: [pid_t] { children.values.filter { !$0.ended }.map(\.pid) }

    /// Whether a worker forked by the zygote has not been reaped yet.
    var hasUnreapedForkedWorkers: Bool { children.values.contains { $0.viaZygote && $0.pidfd != nil } }

    /// Keeps a new child as its slot's current process (a process it replaces by a reload stays
    /// until it has ended) and watches its pipes, and its pidfd unless the zygote reports its exit.
    func add(_ child: Child) {
        children[child.pid] = child
        current[child.slot] = child.pid
        if !outputHeld {
            if let fd = child.output[.stdout] { watch.add(fd, pid: child.pid, role: .stdout) }
            if let fd = child.output[.stderr] { watch.add(fd, pid: child.pid, role: .stderr) }
        }
        if let pidfd = child.pidfd, !child.viaZygote || watchesForkedExits {
            watch.add(pidfd, pid: child.pid, role: .exit)
        }
    }

    /// A reload's new generation failed and was retired: `pid`, the process it was to replace,
    /// is its slot's current process again.
    func reinstate(_ pid: pid_t) {
        guard let child = children[pid] else { return }
        current[child.slot] = pid
    }

    /// Lets go of the ended child `pid` (before its slot's next generation is added, or once an
    /// outgoing process ended): its pipes' unfinished last lines go to `emit`, its descriptors
    /// are closed.
    func retire(pid: pid_t, emit: (EngineEvent) -> Void) {
        guard let child = children[pid] else { return }
        for stream in [ChildStream.stdout, .stderr] { closeOutput(pid: pid, stream: stream, emit: emit) }
        if let pidfd = children[pid]?.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
        }
        children[pid] = nil
        if current[child.slot] == pid { current[child.slot] = nil }
    }

    /// Stops (`held`) or resumes watching every child's pipes: while held nothing more is read
    /// from them, and a child that writes more than its pipe holds waits.
    func holdOutput(_ held: Bool) {
        guard held != outputHeld else { return }
        outputHeld = held
        for child in children.values {
            for (stream, role) in [(ChildStream.stdout, ChildWatch.Role.stdout), (.stderr, .stderr)] {
                guard let fd = child.output[stream] else { continue }
                if held { watch.remove(fd) } else { watch.add(fd, pid: child.pid, role: role) }
            }
        }
    }

    /// Once the zygote is gone nothing reports its workers' exits: their pidfds are watched.
    func watchForkedExits() {
        guard !watchesForkedExits else { return }
        watchesForkedExits = true
        for child in children.values where child.viaZygote {
            if let pidfd = child.pidfd { watch.add(pidfd, pid: child.pid, role: .exit) }
        }
    }

    /// The descriptors ready now, by the pid of their child and their role.
    func ready() -> [(pid: pid_t, role: ChildWatch.Role)] { watch.ready() }

    /// Reads what `stream` of the child `pid` has now (at most `limit` reads of 64 KiB, so a
    /// flood cannot hold the loop) and hands `emit` its complete lines; closes the pipe at EOF.
    func readOutput(pid: pid_t, stream: ChildStream, limit: Int, emit: (EngineEvent) -> Void) {
        guard let child = children[pid], let fd = child.output[stream] else { return }
        for _ in 0..<limit {
            let count: Int?
            do {
                count = try Syscalls.read(fd, into: readBuffer)
            } catch {
                count = 0
            }
            guard let count else { break }
            if count == 0 {
                closeOutput(pid: pid, stream: stream, emit: emit)
                break
            }
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
            var lines: [String] = []
            update(pid) { child in
                lines = child.lines[stream]?.append(bytes) ?? []
                if stream == .stderr { for line in lines { child.keepError(line) } }
            }
            for line in lines { emit(.output(slot: child.slot, stream, line: line)) }
        }
    }

    /// Reads what is left in every pipe, hands `emit` the unfinished last lines, closes them all:
    /// outgoing processes first, then every slot's current one, by slot.
    func finishOutput(emit: (EngineEvent) -> Void) {
        let currentPids = Set(current.values)
        let bySlot = children.values.sorted { $0.slot < $1.slot }
        for child in bySlot.filter({ !currentPids.contains($0.pid) }) + bySlot.filter({ currentPids.contains($0.pid) })
        {
            for stream in [ChildStream.stdout, .stderr] {
                readOutput(pid: child.pid, stream: stream, limit: 16, emit: emit)
                closeOutput(pid: child.pid, stream: stream, emit: emit)
            }
        }
    }

    private func closeOutput(pid: pid_t, stream: ChildStream, emit: (EngineEvent) -> Void) {
        guard let child = children[pid], let fd = child.output[stream] else { return }
        var last: String?
        update(pid) { child in
            last = child.lines[stream]?.finish()
            if stream == .stderr, let last { child.keepError(last) }
            child.output[stream] = nil
        }
        if let last { emit(.output(slot: child.slot, stream, line: last)) }
        watch.remove(fd)
        Syscalls.close(fd)
    }

    /// How the exec'ed child `pid` ended, if its pidfd says it has: reaped through the pidfd,
    /// so an adopted orphan's `waitpid` never takes it. Throws what waitid reported when it
    /// could not tell.
    func reap(pid: pid_t) throws(SystemCallError) -> Termination? {
        guard let child = children[pid], let pidfd = child.pidfd else { return nil }
        if child.viaZygote {
            // Its zygote died, so it was SIGKILLed (parent-death signal) and nobody can tell
            // more: report that once its pidfd says it is gone.
            return .signaled(.kill, coreDumped: false)
        }
        do {
            return try Syscalls.waitPidfd(pidfd, pid: child.pid, noHang: true).map(Termination.init)
        } catch  where error.errno == .noChildProcess {
            // Its pidfd says it ended, but someone else's waitpid(-1) reaped it: say so.
            return .reapedElsewhere
        }
    }

    /// Marks the child `pid` ended and closes its pidfd; returns it, or nil if it had already
    /// ended.
    func markEnded(pid: pid_t) -> Child? {
        guard let child = children[pid], !child.ended else { return nil }
        if let pidfd = child.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
        }
        update(pid) { child in
            child.ended = true
            child.pidfd = nil
        }
        return children[pid]
    }

    /// Whether `pid` is a live child the supervisor exec'ed (reaped through its pidfd, never by
    /// the orphan reaper).
    func isExecChild(_ pid: pid_t) -> Bool {
        guard let child = children[pid] else { return false }
        return child.pidfd != nil && !child.viaZygote
    }

    /// Sends `signal` to the process group of the child `pid`, as a terminal sends Ctrl-C to its
    /// foreground group: the program behind `sh -c` gets it too, once. The process itself gets
    /// it through its pidfd only if it is not in that group (it left it, or a forked worker has
    /// not made it yet). After the process was reaped, only a lingering group is signalled: its
    /// id stays reserved while a member lives.
    func signalGroup(pid: pid_t, _ signal: CInt, lingering: Bool) throws(SystemCallError) {
        guard let child = children[pid] else { return }
        if let pidfd = child.pidfd {
            let reachedGroup = try Syscalls.killProcessGroup(child.pid, signal)
            if !reachedGroup || Syscalls.processGroup(of: child.pid) != child.pid {
                _ = try Syscalls.pidfdSendSignal(pidfd, signal, pid: child.pid)
            }
        } else if lingering {
            _ = try Syscalls.killProcessGroup(child.pid, signal)
        }
    }
}
