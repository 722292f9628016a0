import CProcessShims
import Glibc
import SystemPackage

/// The supervisor's handle on a zygote: one copy of the Swift worker executable, started by
/// exec, that stays single-threaded and never touches concurrency, and forks a worker per
/// request. A fork costs a fraction of a millisecond where exec'ing a Swift program costs
/// several: the runtime is loaded once. The workers are the zygote's children, so it reports
/// their exits over the control socket; the supervisor watches and signals them through pidfds.
final class Zygote {
    /// A worker that ended, as the zygote reaped it.
    struct Exit {
        var pid: pid_t
        var termination: Termination
    }

    /// The zygote's own pid.
    let pid: pid_t
    /// The control socket, to poll for exits.
    let control: CInt
    private var pidfd: CInt?
    private var pendingExits: [Exit] = []
    private var unanswered: Set<Int> = []
    private var answers: [Int: Result<pid_t, Errno>] = [:]
    private(set) var isGone = false

    /// The environment variable naming the zygote's end of the control socket.
    static let controlVariable = "CORRAL_ZYGOTE_FD"
    /// The environment variable naming the zygote's copy of the watchdog's pipe.
    static let watchdogVariable = "CORRAL_ZYGOTE_WATCHDOG_FD"

    /// Starts a zygote from `request` (the first worker's request: its environment and
    /// inherited sockets are every worker's) and waits until it is ready.
    init(request: SpawnRequest) throws(SpawnError) {
        let fail = { (error: SystemCallError) in
            SpawnError(executable: request.executable, stage: .fork, errno: error.errno, slot: request.slot)
        }
        let (mine, theirs): (CInt, CInt)
        do {
            (mine, theirs) = try Syscalls.seqpacketPair()
        } catch {
            throw fail(error)
        }
        var zygoteRequest = request
        zygoteRequest.inherited.append(theirs)
        zygoteRequest.environment.append("\(Self.controlVariable)=\(3 + request.inherited.count)")
        if let watchdog = request.watchdog {
            // The zygote's children register themselves with the watchdog, as exec'ed ones do.
            zygoteRequest.inherited.append(watchdog)
            zygoteRequest.environment.append("\(Self.watchdogVariable)=\(3 + request.inherited.count + 1)")
        }
        let spawned: ChildSpawner.Spawned
        do {
            spawned = try ChildSpawner.spawn(zygoteRequest)
        } catch {
            Syscalls.close(mine)
            Syscalls.close(theirs)
            throw error
        }
        Syscalls.close(theirs)
        self.pid = spawned.pid
        self.control = mine
        pidfd = spawned.pidfd ?? (try? Syscalls.pidfdOpen(spawned.pid))
        var message = corral_zygote_message()
        let result = corral_zygote_receive(mine, 0, &message)
        guard result == 0, message.kind == Int32(CORRAL_ZYGOTE_READY) else {
            finish()
            let reason = message.kind == Int32(CORRAL_ZYGOTE_NOT_READY) ? Errno.resourceBusy : Errno.brokenPipe
            throw SpawnError(executable: request.executable, stage: .exec, errno: reason, slot: request.slot)
        }
    }

    /// Asks for a worker in `slot` writing to these descriptors. They travel with the request,
    /// so the caller may close its copies at once. The answer comes later: ``takeSpawnResult(slot:)``.
    /// Requests are answered in order, one fork each, while the supervisor goes on.
    func request(slot: Int, standardOutput: CInt, standardError: CInt) throws(SystemCallError) {
        guard !isGone else { throw SystemCallError("zygote request", errno: .brokenPipe, context: "slot \(slot)") }
        try Syscalls.retrying("sendmsg", context: "zygote request for slot \(slot)") {
            corral_zygote_request(control, CInt(slot), standardOutput, standardError)
        }
        unanswered.insert(slot)
    }

    /// Tells the zygote no request will follow: it exits by itself once its last worker has
    /// ended and been reported, so ``finish()`` finds it gone instead of waiting for it.
    func closeRequests() {
        guard !isGone, !requestsClosed else { return }
        requestsClosed = corral_zygote_close_requests(control) == 0
    }

    /// Whether ``closeRequests()`` was sent.
    private(set) var requestsClosed = false

    /// How many requests have no answer yet.
    var unansweredCount: Int { unanswered.count }

    /// The answer to the request for `slot` once it came (the pid, or why the fork failed),
    /// else nil; an answer is handed out once. A request the zygote can no longer answer
    /// (it is gone) fails with `EPIPE`.
    func takeSpawnResult(slot: Int) -> Result<pid_t, Errno>? {
        receive()
        if let answer = answers.removeValue(forKey: slot) { return answer }
        guard isGone, unanswered.remove(slot) != nil else { return nil }
        return .failure(.brokenPipe)
    }

    /// Workers that ended since the last call. Sets ``isGone`` when the zygote has gone.
    func takeExits() -> [Exit] {
        receive()
        defer { pendingExits.removeAll() }
        return pendingExits
    }

    /// Reads every message waiting: answers and exits. Sets ``isGone`` at the end of the socket.
    private func receive() {
        while !isGone {
            var message = corral_zygote_message()
            let result = corral_zygote_receive(control, 1, &message)
            if result == -2 { isGone = true }
            if result != 0 { break }
            let slot = Int(message.slot)
            switch message.kind {
            case Int32(CORRAL_ZYGOTE_EXITED): record(message)
            case Int32(CORRAL_ZYGOTE_SPAWNED) where unanswered.remove(slot) != nil:
                answers[slot] = .success(message.pid)
            case Int32(CORRAL_ZYGOTE_SPAWN_FAILED) where unanswered.remove(slot) != nil:
                answers[slot] = .failure(Errno(rawValue: message.error))
            default: continue
            }
        }
    }

    /// Whether exits are waiting without a read (received while taking an answer).
    var hasPendingExits: Bool { !pendingExits.isEmpty }

    /// Ends the zygote (closing the control socket makes it exit) and reaps it; SIGKILL if it
    /// has not gone within a second. Idempotent.
    func finish() {
        guard let pidfd else { return }
        self.pidfd = nil
        Syscalls.close(control)
        HelperExit.reap(pidfd: pidfd, pid: pid)
    }

    deinit { finish() }

    private func record(_ message: corral_zygote_message) {
        let wait = WaitStatus(code: message.code, status: message.status)
        if wait.isEnd { pendingExits.append(Exit(pid: message.pid, termination: Termination(wait))) }
    }
}
