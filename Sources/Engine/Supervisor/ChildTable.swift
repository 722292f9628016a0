import Glibc

/// The started children, by slot: their pids, pidfds, output pipes and line buffers, watched in
/// one ``ChildWatch`` set. Reads their output into lines, reaps the ones the supervisor exec'ed
/// through their pidfds, signals their process groups and closes what they leave.
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
        var output: [OutputStream: CInt]
        var lines: [OutputStream: OutputLineBuffer] = [.stdout: OutputLineBuffer(), .stderr: OutputLineBuffer()]
        /// The last standard error lines, for the report of its end.
        var lastErrors: [String] = []

        /// A child started for `slot` whose output comes from the read ends in `output`.
        init(slot: Int, pid: pid_t, pidfd: CInt? = nil, viaZygote: Bool = false, output: [OutputStream: CInt]) {
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

        /// Closes its pipes and pidfd.
        func close() {
            for fd in output.values { Syscalls.close(fd) }
            if let pidfd { Syscalls.close(pidfd) }
        }
    }

    private var children: [Child?]
    /// Their pipes and pidfds, in one epoll set (the pidfds of zygote-forked workers only once
    /// the zygote, which reports their exits, is gone).
    private let watch: ChildWatch
    private(set) var watchesForkedExits = false
    /// One read buffer for every pipe.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// A table of `count` empty slots.
    init(count: Int) throws(SystemCallError) {
        watch = try ChildWatch()
        children = Array(repeating: nil, count: count)
    }

    deinit {
        for case let child? in children { child.close() }
        readBuffer.deallocate()
    }

    /// The descriptor to poll: readable when a pipe or watched pidfd is.
    var descriptor: CInt { watch.descriptor }

    /// The child started in `slot`, if any.
    subscript(slot: Int) -> Child? { children.indices.contains(slot) ? children[slot] : nil }

    /// Whether a worker forked by the zygote has not been reaped yet.
    var hasUnreapedForkedWorkers: Bool { children.contains { $0?.viaZygote == true && $0?.pidfd != nil } }

    /// Keeps a new child and watches its pipes, and its pidfd unless the zygote reports its exit.
    func add(_ child: Child) {
        // A slot added by scaling.
        while children.count <= child.slot { children.append(nil) }
        children[child.slot] = child
        if let fd = child.output[.stdout] { watch.add(fd, slot: child.slot, role: .stdout) }
        if let fd = child.output[.stderr] { watch.add(fd, slot: child.slot, role: .stderr) }
        if let pidfd = child.pidfd, !child.viaZygote || watchesForkedExits {
            watch.add(pidfd, slot: child.slot, role: .exit)
        }
    }

    /// Lets go of the ended child in `slot` (before its next generation is added): its pipes'
    /// unfinished last lines go to `emit`, its descriptors are closed.
    func retire(slot: Int, emit: (EngineEvent) -> Void) {
        guard let child = self[slot] else { return }
        for stream in [OutputStream.stdout, .stderr] { closeOutput(slot: slot, stream: stream, emit: emit) }
        if let pidfd = child.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
        }
        children[slot] = nil
    }

    /// The zygote is gone: its workers' ends are seen on their pidfds from now on.
    func watchForkedExits() {
        guard !watchesForkedExits else { return }
        watchesForkedExits = true
        for case let child? in children where child.viaZygote {
            if let pidfd = child.pidfd { watch.add(pidfd, slot: child.slot, role: .exit) }
        }
    }

    /// The descriptors ready now, by slot and role.
    func ready() -> [(slot: Int, role: ChildWatch.Role)] { watch.ready() }

    /// Reads up to `limit` bufferfuls from one of a child's pipes and hands `emit` the complete
    /// lines; at the end of the pipe, the unfinished last line too, and closes it.
    func readOutput(slot: Int, stream: OutputStream, limit: Int, emit: (EngineEvent) -> Void) {
        guard let fd = self[slot]?.output[stream] else { return }
        for _ in 0..<limit {
            let count: Int?
            do {
                count = try Syscalls.read(fd, into: readBuffer)
            } catch {
                count = 0
            }
            guard let count else { break }
            if count == 0 {
                closeOutput(slot: slot, stream: stream, emit: emit)
                break
            }
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
            for line in children[slot]?.lines[stream]?.append(bytes) ?? [] {
                if stream == .stderr { children[slot]?.keepError(line) }
                emit(.output(slot: slot, stream, line: line))
            }
        }
    }

    /// Reads what is left in every pipe, hands `emit` the unfinished last lines, closes them all.
    func finishOutput(emit: (EngineEvent) -> Void) {
        for slot in children.indices where children[slot] != nil {
            for stream in [OutputStream.stdout, .stderr] {
                readOutput(slot: slot, stream: stream, limit: 16, emit: emit)
                closeOutput(slot: slot, stream: stream, emit: emit)
            }
        }
    }

    private func closeOutput(slot: Int, stream: OutputStream, emit: (EngineEvent) -> Void) {
        guard let fd = self[slot]?.output[stream] else { return }
        if let last = children[slot]?.lines[stream]?.finish() {
            if stream == .stderr { children[slot]?.keepError(last) }
            emit(.output(slot: slot, stream, line: last))
        }
        watch.remove(fd)
        Syscalls.close(fd)
        children[slot]?.output[stream] = nil
    }

    /// How the exec'ed child in `slot` ended, if its pidfd says it has: reaped through the
    /// pidfd, so an adopted orphan's `waitpid` never takes it. Throws what waitid reported
    /// when it could not tell.
    func reap(slot: Int) throws(SystemCallError) -> Termination? {
        guard let child = self[slot], let pidfd = child.pidfd else { return nil }
        if child.viaZygote {
            // Its zygote died, so it was SIGKILLed (parent-death signal) and nobody can tell
            // more: report that once its pidfd says it is gone.
            return .signaled(.kill, coreDumped: false)
        }
        do {
            return try Syscalls.waitPidfd(pidfd, pid: child.pid, noHang: true)
        } catch  where error.errno == .noChildProcess {
            // Its pidfd says it ended, but someone else's waitpid(-1) reaped it: say so.
            return .reapedElsewhere
        }
    }

    /// Marks the child in `slot` ended and closes its pidfd; returns it, or nil if it had
    /// already ended.
    func markEnded(slot: Int) -> Child? {
        guard let child = self[slot], !child.ended else { return nil }
        children[slot]?.ended = true
        if let pidfd = child.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
            children[slot]?.pidfd = nil
        }
        return children[slot]
    }

    /// Whether `pid` is a live child the supervisor exec'ed (reaped through its pidfd, never by
    /// the orphan reaper).
    func isExecChild(_ pid: pid_t, slot: Int) -> Bool {
        guard let child = self[slot], child.pid == pid else { return false }
        return child.pidfd != nil && !child.viaZygote
    }

    /// Sends `signal` to the slot's process group, as a terminal sends Ctrl-C to its foreground
    /// group: the program behind `sh -c` gets it too, once. The process itself gets it through
    /// its pidfd only if it is not in that group (it left it, or a forked worker has not made
    /// it yet). After the process was reaped, only a lingering group is signalled: its id stays
    /// reserved while a member lives.
    func signalGroup(slot: Int, _ signal: CInt, lingering: Bool) throws(SystemCallError) {
        guard let child = self[slot] else { return }
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
