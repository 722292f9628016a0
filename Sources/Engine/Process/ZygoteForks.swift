import Glibc

/// Asks a zygote for workers ahead of time, so that it forks while the supervisor goes on: up
/// to ``window`` requests wait for their answer at once, each carrying its worker's new output
/// pipes. Answers are taken slot by slot; workers whose slot is no longer wanted (the stop
/// began) are killed as their answers come.
final class ZygoteForks {
    /// A worker the zygote forked, with the read ends of its pipes.
    struct Forked {
        var pid: pid_t
        var stdout: CInt
        var stderr: CInt
    }

    /// How many requests may wait for their answer at once: both directions of the zygote's
    /// socket stay far from full, so neither side can block the other.
    static let window = 32

    let zygote: Zygote
    private let executable: String
    private var inFlight: [Int: OutputPipes] = [:]
    private var failed: [Int: SpawnError] = [:]
    private var nextRequest = 0

    /// Requests to `zygote`, which runs `executable` (named in errors).
    init(zygote: Zygote, executable: String) {
        self.zygote = zygote
        self.executable = executable
    }

    /// Whether no request waits for its answer.
    var isEmpty: Bool { inFlight.isEmpty && failed.isEmpty }

    /// Whether `slot` was requested and its outcome not taken yet.
    func isRequested(_ slot: Int) -> Bool { inFlight[slot] != nil || failed[slot] != nil }

    /// Requests the slots from `slot` up to (not including) `end` that were not requested yet,
    /// while fewer than ``window`` wait. A request that cannot be sent is kept as its slot's
    /// failure, and nothing after it is requested.
    func request(from slot: Int, upTo end: Int) {
        nextRequest = max(nextRequest, slot)
        while nextRequest < end, zygote.unansweredCount < Self.window, failed.isEmpty {
            let slot = nextRequest
            nextRequest += 1
            do {
                inFlight[slot] = try send(slot)
            } catch {
                failed[slot] = error
            }
        }
    }

    /// Requests one more fork for `slot` (a restart), unless one waits already.
    func requestOne(_ slot: Int) {
        guard inFlight[slot] == nil, failed[slot] == nil else { return }
        do {
            inFlight[slot] = try send(slot)
        } catch {
            failed[slot] = error
        }
    }

    /// The outcome for `slot` once it is known (handed out once): the forked worker, or why it
    /// could not start.
    func take(_ slot: Int) -> Result<Forked, SpawnError>? {
        if let failure = failed.removeValue(forKey: slot) { return .failure(failure) }
        guard inFlight[slot] != nil, let answer = zygote.takeSpawnResult(slot: slot),
            let pipes = inFlight.removeValue(forKey: slot)
        else { return nil }
        switch answer {
        case .success(let pid):
            return .success(Forked(pid: pid, stdout: pipes.stdout.read, stderr: pipes.stderr.read))
        case .failure(let errno):
            pipes.closeReadEnds()
            return .failure(SpawnError(executable: executable, stage: .fork, errno: errno, slot: slot))
        }
    }

    /// Kills the workers forked for requests no longer wanted as their answers come (the
    /// zygote reaps them). Returns whether answers are still to come.
    @discardableResult
    func abandonAnswered() -> Bool {
        failed.removeAll()
        for slot in inFlight.keys {
            guard case .success(let forked)? = take(slot) else { continue }
            Self.kill(forked.pid)
            Syscalls.close(forked.stdout)
            Syscalls.close(forked.stderr)
        }
        return !inFlight.isEmpty
    }

    /// After the run: waits up to `limit` for the remaining answers, killing those workers;
    /// any forked later die with the zygote (their parent-death signal).
    func abandonAll(within limit: Duration) {
        let deadline = ContinuousClock.now + limit
        while abandonAnswered(), !zygote.isGone, ContinuousClock.now < deadline {
            var fds = [pollfd(fd: zygote.control, events: Int16(POLLIN), revents: 0)]
            _ = try? Syscalls.poll(&fds, timeoutMilliseconds: 100)
        }
        for pipes in inFlight.values { pipes.closeReadEnds() }
        inFlight.removeAll()
    }

    /// SIGKILLs a worker the zygote forked (which reaps it): its process group, which may not
    /// exist yet, and the process itself.
    static func kill(_ pid: pid_t) {
        _ = try? Syscalls.killProcessGroup(pid, SIGKILL)
        _ = try? Syscalls.kill(pid, SIGKILL)
    }

    /// Sends the request for `slot` with the write ends of new pipes; returns the pipes (the
    /// write ends closed: the request carries them).
    private func send(_ slot: Int) throws(SpawnError) -> OutputPipes {
        let pipes: OutputPipes
        do {
            pipes = try OutputPipes.make()
        } catch {
            throw SpawnError(executable: executable, stage: .fork, errno: error.errno, slot: slot)
        }
        defer { pipes.closeWriteEnds() }
        do {
            try zygote.request(slot: slot, standardOutput: pipes.stdout.write, standardError: pipes.stderr.write)
        } catch {
            pipes.closeReadEnds()
            throw SpawnError(executable: executable, stage: .fork, errno: error.errno, slot: slot)
        }
        return pipes
    }
}
