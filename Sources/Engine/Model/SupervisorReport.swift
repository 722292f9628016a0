import Glibc
import SystemPackage

/// What a finished run leaves: why it stopped, and how every slot ended.
public struct SupervisorReport: Sendable, CustomStringConvertible {
    /// The final record of one slot.
    public struct Slot: Sendable, Hashable, CustomStringConvertible {
        /// 0-based index (workers first, then extras).
        public var index: Int
        /// Worker or extra.
        public var kind: ChildKind
        /// The pid it had, if it was spawned.
        public var pid: pid_t?
        /// How it ended; nil if it was never spawned (shutdown began before its turn).
        public var end: SlotEnd?
        /// A failure recorded even without an end (a spawn failure).
        public var failure: SlotFailure?
        /// The last `STATUS=` text it sent.
        public var lastStatus: String?
        /// Its last process's generation (0: never restarted).
        public var generation: Int = 0
        /// How many times the restart policy started it again.
        public var restarts: Int = 0
        /// Its name in a run of programs (`web.1`); nil: its kind and index (`worker.2`).
        public var processName: ProcessName?

        /// `web.1`, `worker.2`, `extra.4`.
        public var name: String { processName?.description ?? "\(kind.rawValue).\(index)" }

        /// Ended the same way as `other`, with nothing of its own to show (no stderr lines).
        func isLike(_ other: Slot) -> Bool {
            kind == other.kind && processName?.program == other.processName?.program && pid != nil && other.pid != nil
                && failure == other.failure
                && end?.description == other.end?.description && end?.lastLines.isEmpty != false
                && other.end?.lastLines.isEmpty != false
        }

        /// A one-line description for logs and reports.
        public var description: String {
            guard let pid else { return "\(name): not started\(failure.map { " (\($0))" } ?? "")" }
            return "\(name) pid \(pid): \(end?.description ?? "did not end")"
        }
    }

    /// Exit status of a clean run: stop requested, every child ended cleanly.
    public static let exitClean: Int32 = 0
    /// Exit status when a child failed: init failure, unexpected exit, failed shutdown, spawn failure.
    public static let exitChildFailed: Int32 = 1
    /// Exit status when the only trouble was children that had to be killed (wait timeout, force-kill).
    public static let exitChildrenKilled: Int32 = 2

    /// Why the server stopped.
    public var cause: StopCause
    /// The stop signal sent to the children (nil if none was: every child ended by itself).
    public var stopSignal: Signal?
    /// Every slot, by index.
    public var slots: [Slot]
    /// Descendants still running when the run ended that corral could not stop: they left
    /// their worker's process group (`setsid`, `setpgid`) and so escaped the group SIGKILL.
    /// Known only when the supervisor adopts orphans (see `reapsOrphans`); empty otherwise.
    public var leftBehind: [LeftBehind] = []
    /// Why a process could not be started while the server started (the run then throws it).
    public var spawnError: SpawnError?

    /// Exit status of a command line that cannot work: a program not found, not executable.
    public static let exitUsage: Int32 = 64

    /// The exit status for a run that could not start a process: ``exitUsage`` when the
    /// program cannot be run as given (not found, not permitted, not an executable), else
    /// ``exitChildFailed``.
    public static func exitStatus(for error: SpawnError) -> Int32 {
        switch error.errno {
        case .noSuchFileOrDirectory, .permissionDenied, .execFormatError, .notDirectory, .isDirectory:
            return exitUsage
        default:
            return exitChildFailed
        }
    }

    /// A process that outlived the run.
    public struct LeftBehind: Sendable, Hashable, CustomStringConvertible {
        /// Its pid.
        public var pid: pid_t
        /// Its command name, from /proc.
        public var command: String

        /// A one-line description for logs and reports.
        public var description: String { "pid \(pid) (\(command))" }
    }

    /// The process exit status this run maps to:
    /// - 0 (``exitClean``): the stop was requested and every spawned child ended cleanly
    ///   (exit 0, or died of the very stop signal it was sent);
    /// - 1 (``exitChildFailed``): a child failed in init, ended unexpectedly, failed its shutdown,
    ///   or could not be spawned; also when every child ended by itself (0 when every one died of a
    ///   signal an operator sent it);
    /// - 2 (``exitChildrenKilled``): nothing failed, but a child had to be killed with `SIGKILL`
    ///   after the wait timeout or by an operator's force-kill;
    /// - 64 (``exitUsage``): a process could not be started as the server started, because its
    ///   program cannot be run as given (``spawnError``).
    public var exitStatus: Int32 {
        if let spawnError { return Self.exitStatus(for: spawnError) }
        let failures = slots.compactMap { $0.end?.failure ?? $0.failure }
        let hardFailures = failures.filter {
            switch $0 {
            case .killedAfterTimeout, .groupKilledAfterTimeout, .forceKilled: return false
            default: return true
            }
        }
        // Every process ended of a signal an operator sent it: as requested as a stop.
        let endedByOperator =
            !slots.isEmpty && slots.allSatisfy { $0.pid == nil || $0.end?.isStoppedByOperator == true }
        if !hardFailures.isEmpty || !(cause.wasRequested || endedByOperator) { return Self.exitChildFailed }
        if !failures.isEmpty { return Self.exitChildrenKilled }
        return Self.exitClean
    }

    /// The cause, its slot named by kind and index (`worker.1 failed`).
    public var causeDescription: String {
        cause.description { index in slots.indices.contains(index) ? slots[index].name : "slot \(index)" }
    }

    /// The slots that crash-looped and gave up (``SlotFailure/gaveUp(restarts:window:last:)``).
    public var slotsThatGaveUp: [Int] {
        failures.compactMap { if case .gaveUp = $0.failure { $0.slot } else { nil } }
    }

    /// The slots that failed, with their failure.
    public var failures: [(slot: Int, failure: SlotFailure)] {
        slots.compactMap { slot in (slot.end?.failure ?? slot.failure).map { (slot.index, $0) } }
    }

    /// A one-line description for logs and reports.
    public var description: String {
        var lines = ["stopped: \(causeDescription); exit status \(exitStatus)"]
        // Neighbours of one kind that ended the same way share a line: 60 workers stopped by
        // SIGTERM are one line, not 60.
        var start = 0
        while start < slots.count {
            var end = start + 1
            while end < slots.count, slots[end].isLike(slots[start]) { end += 1 }
            if end - start == 1 {
                lines.append("  \(slots[start])")
                if let ended = slots[start].end, !ended.isClean { lines += ended.lastLines.map { "      \($0)" } }
            } else {
                let first = slots[start]
                let last = slots[end - 1]
                let range =
                    first.processName.map { "\($0)–\(last.processName?.index ?? $0.index)" }
                    ?? "\(first.kind).\(first.index)–\(last.index)"
                lines.append("  \(range) (\(end - start) processes): " + (first.end?.description ?? "did not end"))
            }
            start = end
        }
        for process in leftBehind {
            lines.append("  left behind: \(process): it left its worker's process group, so corral could not stop it")
        }
        return lines.joined(separator: "\n")
    }
}
