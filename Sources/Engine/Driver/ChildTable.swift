import Glibc

/// The started children, by slot: their pids, pidfds, output pipes and line buffers, watched in
/// one ``ChildWatch`` set. Reads their output into lines, reaps the ones the supervisor exec'ed
/// through their pidfds, signals their process groups and closes what they leave. A slot under
/// a rolling reload has two: its new process, and the outgoing one it replaces (`outgoing:`).
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

    private var children: [Child?]
    /// The outgoing processes of slots under reload.
    private var outgoing: [Int: Child] = [:]
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
        for child in outgoing.values { child.close() }
        readBuffer.deallocate()
    }

    /// The descriptor to poll: readable when a pipe or watched pidfd is.
    var descriptor: CInt { watch.descriptor }

    /// The child started in `slot` (its current process), if any.
    subscript(slot: Int) -> Child? { children.indices.contains(slot) ? children[slot] : nil }

    /// The child of `slot`: its current process, or its outgoing one.
    func child(_ slot: Int, outgoing: Bool) -> Child? { outgoing ? self.outgoing[slot] : self[slot] }

    /// Changes the child in place (no copy of its line buffers).
    private func update(_ slot: Int, outgoing isOutgoing: Bool, _ change: (inout Child) -> Void) {
        if isOutgoing {
            outgoing[slot]?.modify(change)
        } else if children.indices.contains(slot) {
            children[slot]?.modify(change)
        }
    }

    /// The process groups of every child not reaped yet (current and outgoing processes).
    var liveGroups: [pid_t] {
        (children.compactMap { $0 } + Array(outgoing.values)).filter { !$0.ended }.map(\.pid)
    }

    /// Whether a worker forked by the zygote has not been reaped yet.
    var hasUnreapedForkedWorkers: Bool {
        children.contains { $0?.viaZygote == true && $0?.pidfd != nil }
            || outgoing.values.contains { $0.viaZygote && $0.pidfd != nil }
    }

    /// Keeps a new child and watches its pipes, and its pidfd unless the zygote reports its exit.
    func add(_ child: Child) {
        // A slot added by scaling.
        while children.count <= child.slot { children.append(nil) }
        children[child.slot] = child
        watchDescriptors(of: child, outgoing: false)
    }

    private func watchDescriptors(of child: Child, outgoing: Bool) {
        if let fd = child.output[.stdout] { watch.add(fd, slot: child.slot, role: .stdout, outgoing: outgoing) }
        if let fd = child.output[.stderr] { watch.add(fd, slot: child.slot, role: .stderr, outgoing: outgoing) }
        if let pidfd = child.pidfd, !child.viaZygote || watchesForkedExits {
            watch.add(pidfd, slot: child.slot, role: .exit, outgoing: outgoing)
        }
    }

    private func unwatchDescriptors(of child: Child) {
        for fd in child.output.values { watch.remove(fd) }
        if let pidfd = child.pidfd { watch.remove(pidfd) }
    }

    /// A reload starts the slot's next generation: its current process becomes the outgoing one.
    func demote(slot: Int) {
        guard let child = self[slot] else { return }
        unwatchDescriptors(of: child)
        children[slot] = nil
        outgoing[slot] = child
        watchDescriptors(of: child, outgoing: true)
    }

    /// A reload's new generation failed and was retired: the outgoing process is the slot's again.
    func promote(slot: Int) {
        guard let child = outgoing.removeValue(forKey: slot) else { return }
        unwatchDescriptors(of: child)
        children[slot] = child
        watchDescriptors(of: child, outgoing: false)
    }

    /// Lets go of the ended child in `slot` (before its next generation is added, or once an
    /// outgoing process ended): its pipes' unfinished last lines go to `emit`, its descriptors
    /// are closed.
    func retire(slot: Int, outgoing isOutgoing: Bool = false, emit: (EngineEvent) -> Void) {
        guard let child = child(slot, outgoing: isOutgoing) else { return }
        for stream in [ChildStream.stdout, .stderr] {
            closeOutput(slot: slot, stream: stream, outgoing: isOutgoing, emit: emit)
        }
        if let pidfd = child.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
        }
        if isOutgoing { outgoing[slot] = nil } else { children[slot] = nil }
    }

    /// The zygote is gone: its workers' ends are seen on their pidfds from now on.
    func watchForkedExits() {
        guard !watchesForkedExits else { return }
        watchesForkedExits = true
        for case let child? in children where child.viaZygote {
            if let pidfd = child.pidfd { watch.add(pidfd, slot: child.slot, role: .exit) }
        }
        for child in outgoing.values where child.viaZygote {
            if let pidfd = child.pidfd { watch.add(pidfd, slot: child.slot, role: .exit, outgoing: true) }
        }
    }

    /// The descriptors ready now, by slot, role and whether they are an outgoing process's.
    func ready() -> [(slot: Int, role: ChildWatch.Role, outgoing: Bool)] { watch.ready() }

    /// Reads up to `limit` bufferfuls from one of a child's pipes and hands `emit` the complete
    /// lines; at the end of the pipe, the unfinished last line too, and closes it.
    func readOutput(
        slot: Int, stream: ChildStream, limit: Int, outgoing isOutgoing: Bool = false, emit: (EngineEvent) -> Void
    ) {
        guard let fd = child(slot, outgoing: isOutgoing)?.output[stream] else { return }
        for _ in 0..<limit {
            let count: Int?
            do {
                count = try Syscalls.read(fd, into: readBuffer)
            } catch {
                count = 0
            }
            guard let count else { break }
            if count == 0 {
                closeOutput(slot: slot, stream: stream, outgoing: isOutgoing, emit: emit)
                break
            }
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
            var lines: [String] = []
            update(slot, outgoing: isOutgoing) { child in
                lines = child.lines[stream]?.append(bytes) ?? []
                if stream == .stderr { for line in lines { child.keepError(line) } }
            }
            for line in lines { emit(.output(slot: slot, stream, line: line)) }
        }
    }

    /// Reads what is left in every pipe, hands `emit` the unfinished last lines, closes them all.
    func finishOutput(emit: (EngineEvent) -> Void) {
        for slot in outgoing.keys.sorted() {
            for stream in [ChildStream.stdout, .stderr] {
                readOutput(slot: slot, stream: stream, limit: 16, outgoing: true, emit: emit)
                closeOutput(slot: slot, stream: stream, outgoing: true, emit: emit)
            }
        }
        for slot in children.indices where children[slot] != nil {
            for stream in [ChildStream.stdout, .stderr] {
                readOutput(slot: slot, stream: stream, limit: 16, emit: emit)
                closeOutput(slot: slot, stream: stream, outgoing: false, emit: emit)
            }
        }
    }

    private func closeOutput(slot: Int, stream: ChildStream, outgoing isOutgoing: Bool, emit: (EngineEvent) -> Void) {
        guard let fd = child(slot, outgoing: isOutgoing)?.output[stream] else { return }
        var last: String?
        update(slot, outgoing: isOutgoing) { child in
            last = child.lines[stream]?.finish()
            if stream == .stderr, let last { child.keepError(last) }
            child.output[stream] = nil
        }
        if let last { emit(.output(slot: slot, stream, line: last)) }
        watch.remove(fd)
        Syscalls.close(fd)
    }

    /// How the exec'ed child in `slot` ended, if its pidfd says it has: reaped through the
    /// pidfd, so an adopted orphan's `waitpid` never takes it. Throws what waitid reported
    /// when it could not tell.
    func reap(slot: Int, outgoing isOutgoing: Bool = false) throws(SystemCallError) -> Termination? {
        guard let child = child(slot, outgoing: isOutgoing), let pidfd = child.pidfd else { return nil }
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

    /// Marks the child in `slot` ended and closes its pidfd; returns it, or nil if it had
    /// already ended.
    func markEnded(slot: Int, outgoing isOutgoing: Bool = false) -> Child? {
        guard let child = child(slot, outgoing: isOutgoing), !child.ended else { return nil }
        if let pidfd = child.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
        }
        update(slot, outgoing: isOutgoing) { child in
            child.ended = true
            child.pidfd = nil
        }
        return self.child(slot, outgoing: isOutgoing)
    }

    /// Whether `pid` is a live child the supervisor exec'ed (reaped through its pidfd, never by
    /// the orphan reaper).
    func isExecChild(_ pid: pid_t, slot: Int) -> Bool {
        for candidate in [self[slot], outgoing[slot]] {
            guard let child = candidate, child.pid == pid else { continue }
            return child.pidfd != nil && !child.viaZygote
        }
        return false
    }

    /// Sends `signal` to the slot's process group, as a terminal sends Ctrl-C to its foreground
    /// group: the program behind `sh -c` gets it too, once. The process itself gets it through
    /// its pidfd only if it is not in that group (it left it, or a forked worker has not made
    /// it yet). After the process was reaped, only a lingering group is signalled: its id stays
    /// reserved while a member lives.
    func signalGroup(slot: Int, _ signal: CInt, lingering: Bool, outgoing isOutgoing: Bool = false)
        throws(SystemCallError)
    {
        guard let child = child(slot, outgoing: isOutgoing) else { return }
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
