import Glibc
import Logging
import SystemPackage

/// Starts children, one way or the other: Swift workers forked by the zygote (asked ahead of
/// their turn) and everything else by exec on the spawner thread. Either way the result is a
/// ``ChildTable/Child`` with its pidfd and output pipes, or the ``SpawnError`` that says why not.
final class ChildStarter {
    let plan: LaunchPlan
    private let configuration: SupervisorConfiguration
    private let payload: LaunchPayload
    /// Every child's standard input.
    private let devNull: CInt
    private let watchdog: CInt?
    private let notifyAddress: String
    /// Where children started by exec are spawned from (started with the first of them); nil
    /// after it could not start: then from this thread.
    private var spawner: Spawner?
    private var spawnerUnavailable = false
    /// More spawner threads for a run that starts many children by exec: its first starts are
    /// passed to each thread in turn, so that their vforks block on several processors at once.
    private var helpers: [Spawner] = []
    /// How many first starts were passed to the spawner threads (whose turn is next).
    private var submissions = 0
    /// Whether the next spawn comes from this thread: the first of a run of one child by exec,
    /// when this thread's table is still small and a thread's start and a hand-off would cost
    /// more than the spawn itself. The spawner thread starts with the spawn after.
    private var spawnsFromThisThread = false
    /// The zygote, once the first worker was asked of it.
    private(set) var zygote: Zygote?
    /// Zygotes a reload replaced: they fork nothing more, report their workers' exits, and end
    /// once those have all ended.
    private(set) var retiredZygotes: [Zygote] = []
    /// The reload round the current zygote was started for (0: the first start).
    private var zygoteRound = 0
    private var zygoteUnavailable = false
    /// The workers asked of the zygote ahead of their turn.
    private var forks: ZygoteForks?
    /// Slots passed to the spawner threads by ``submitExec(_:)``, oldest first, not collected yet.
    private var submitted: [Submission] = []

    /// A first start passed to a spawner thread and not collected yet.
    private struct Submission {
        var slot: Int
        var pipes: OutputPipes
        var pending: ChildSpawner.Pending
        var spawner: Spawner
        /// When it was passed: its process started after.
        var at: ContinuousClock.Instant
    }

    /// How many worker slots the server runs now (told to each worker started).
    var workerCount: Int
    /// In a run of programs, where a slot sits: its program and name (set by the driver).
    var seat: (Int) -> LaunchPlan.Seat? = { _ in nil }
    private var logger: Logger { configuration.logger }

    /// A starter for `plan`'s programs, giving each child the watchdog's descriptor and the
    /// notify socket's address.
    init(
        configuration: SupervisorConfiguration, payload: LaunchPayload, plan: LaunchPlan, watchdog: CInt?,
        notifyAddress: String
    ) throws(SystemCallError) {
        self.configuration = configuration
        self.payload = payload
        self.plan = plan
        self.watchdog = watchdog
        self.notifyAddress = notifyAddress
        workerCount = configuration.workers
        devNull = try Syscalls.open("/dev/null", flags: O_RDWR)
    }

    deinit {
        stopSpawner()
        zygote?.finish()
        for retired in retiredZygotes { retired.finish() }
        Syscalls.close(devNull)
    }

    /// Whether some worker asked of the zygote has not been taken yet.
    var hasForksInFlight: Bool { forks?.isEmpty == false }

    /// Whether `slot` was asked of the zygote and is not taken yet.
    func isRequested(_ slot: Int) -> Bool { forks?.isRequested(slot) == true }

    /// Whether the worker in `slot` is forked by the zygote; starts the zygote on first use
    /// (with its output to `/dev/null`). A zygote that cannot start (another thread was
    /// running in it) means exec for the rest of the run.
    func forksWorker(_ slot: Int) -> Bool {
        if isRequested(slot) { return true }
        // The zygote forks the configured workers only; slots added by scaling are exec'ed.
        guard slot < configuration.workers, plan.program(slot).role == .worker, configuration.spawnStrategy == .zygote,
            !zygoteUnavailable
        else {
            return false
        }
        if let zygote { return !zygote.isGone }
        do {
            let zygote = try Zygote(request: request(slot, output: (devNull, devNull)))
            self.zygote = zygote
            forks = ZygoteForks(zygote: zygote, executable: plan.program(slot).executable)
            return true
        } catch {
            zygoteUnavailable = true
            logger.warning("no zygote, starting each Swift worker by exec: \(error)")
            return false
        }
    }

    /// Whether a restart of `slot` can be forked by the zygote (a configured worker slot, and
    /// the zygote still takes requests).
    func canForkRestart(_ slot: Int) -> Bool {
        guard slot < configuration.workers, plan.program(slot).role == .worker, let zygote else { return false }
        return !zygote.isGone && !zygote.requestsClosed
    }

    /// Every zygote: the current one, then the retired ones.
    var allZygotes: [Zygote] { [zygote].compactMap { $0 } + retiredZygotes }

    /// Whether a reload's new generation of `slot` is forked by a zygote of that reload: exec'ed
    /// from the executable's path on disk, so that a rebuilt binary takes effect. Starts it on
    /// the reload's first request; the previous zygote retires. False (exec from disk instead)
    /// for other slots, or when the new zygote cannot start.
    func forksReload(_ slot: Int, round: Int) -> Bool {
        guard slot < configuration.workers, plan.program(slot).role == .worker, configuration.spawnStrategy == .zygote,
            !zygoteUnavailable
        else { return false }
        if zygoteRound == round, let zygote { return isRequested(slot) || (!zygote.isGone && !zygote.requestsClosed) }
        // A new zygote only once the previous one has answered everything asked of it.
        guard !hasForksInFlight else { return false }
        do {
            let fresh = try Zygote(request: request(slot, output: (devNull, devNull), fromDisk: true))
            if let zygote {
                zygote.closeRequests()
                retiredZygotes.append(zygote)
            }
            zygote = fresh
            zygoteRound = round
            forks = ZygoteForks(zygote: fresh, executable: plan.program(slot).executable)
            return true
        } catch {
            logger.warning("no zygote for the reload, starting each new worker by exec: \(error)")
            return false
        }
    }

    /// Lets go of retired zygotes that have ended.
    func forgetEndedZygotes() {
        for retired in retiredZygotes where retired.isGone { retired.finish() }
        retiredZygotes.removeAll { $0.isGone }
    }

    /// Asks the zygote for a restart of `slot`.
    func requestRestartFork(_ slot: Int) {
        forks?.requestOne(slot)
    }

    /// Asks the zygote ahead for the worker slots from `slot` on, so that it forks while the
    /// supervisor goes on.
    func requestForks(from slot: Int) {
        forks?.request(from: slot, upTo: configuration.workers)
    }

    /// The worker the zygote forked for `slot`, once its answer came; nil while it has not.
    func takeFork(_ slot: Int) -> Result<ChildTable.Child, SpawnError>? {
        guard let forks, let outcome = forks.take(slot) else { return nil }
        switch outcome {
        case .success(let forked): return adopt(forked, slot: slot)
        case .failure(let error): return .failure(error)
        }
    }

    /// Kills the forked workers whose answers came but whose slots are no longer wanted.
    func abandonAnsweredForks() {
        if let forks, !forks.isEmpty { forks.abandonAnswered() }
    }

    /// Kills every forked worker not taken yet, waiting up to `timeout` for the answers.
    func abandonAllForks(within timeout: Duration) {
        forks?.abandonAll(within: timeout)
    }

    /// Stops the spawner threads (every child they started has ended).
    func stopSpawner() {
        for helper in helpers { helper.stop() }
        spawner?.stop()
    }

    /// A worker the zygote forked for `slot`, with its pidfd; killed if it cannot be watched.
    private func adopt(_ forked: ZygoteForks.Forked, slot: Int) -> Result<ChildTable.Child, SpawnError> {
        var child = ChildTable.Child(
            slot: slot, pid: forked.pid, viaZygote: true, output: [.stdout: forked.stdout, .stderr: forked.stderr])
        do throws(SystemCallError) {
            child.pidfd = try Syscalls.pidfdOpen(forked.pid)
        } catch  where error.errno == .noSuchProcess {
            // It has already ended (a worker failing at once), and the zygote, its parent and
            // only reaper, reports how: take it without a pidfd; nothing is left to signal.
        } catch {
            // It runs but cannot be watched: kill it (the zygote reaps it), then report.
            ZygoteForks.kill(forked.pid)
            child.close()
            return .failure(forkError(slot, error.errno))
        }
        return .success(child)
    }

    /// Starts `slot` by exec, with new output pipes; `fromDisk`: a Swift child from the
    /// executable's path on disk (a reload: a rebuilt binary takes effect), not the running image.
    func exec(_ slot: Int, fromDisk: Bool = false) -> Result<ChildTable.Child, SpawnError> {
        let pipes: OutputPipes
        do {
            pipes = try OutputPipes.make()
        } catch {
            return .failure(forkError(slot, error.errno))
        }
        let request = request(slot, output: (pipes.stdout.write, pipes.stderr.write), fromDisk: fromDisk)
        return adopt(
            Result { () throws(SpawnError) in try ChildSpawner.spawn(request, via: spawnerForOneSpawn()) }, pipes, slot)
    }

    /// The slots submitted and not collected yet, oldest first.
    var submittedSlots: [Int] { submitted.map(\.slot) }

    /// Passes the first start of `slot` to a spawner thread, which spawns it while this thread
    /// goes on; ``collectExec()`` takes the outcome. False when it does not: a run's one child
    /// comes from this thread, and without a spawner thread or pipes ``exec(_:fromDisk:)`` says
    /// why.
    func submitExec(_ slot: Int) -> Bool {
        guard !spawnsFromThisThread, let spawner = spawnerForSubmission(), let pipes = try? OutputPipes.make() else {
            return false
        }
        let request = request(slot, output: (pipes.stdout.write, pipes.stderr.write))
        do {
            let at = ContinuousClock.now
            let pending = try ChildSpawner.submit(request, via: spawner)
            submitted.append(Submission(slot: slot, pipes: pipes, pending: pending, spawner: spawner, at: at))
            submissions += 1
            return true
        } catch {
            pipes.closeWriteEnds()
            pipes.closeReadEnds()
            return false
        }
    }

    /// The outcome of the oldest slot submitted, as ``exec(_:fromDisk:)``'s, and when it was
    /// submitted (its process started after); nil when none is.
    func collectExec() -> (
        slot: Int, outcome: Result<ChildTable.Child, SpawnError>, submitted: ContinuousClock.Instant
    )? {
        guard !submitted.isEmpty else { return nil }
        let oldest = submitted.removeFirst()
        let spawned = Result { () throws(SpawnError) in
            try ChildSpawner.collect(oldest.pending, via: oldest.spawner)
        }
        return (oldest.slot, adopt(spawned, oldest.pipes, oldest.slot), oldest.at)
    }

    /// A child exec'ed with `pipes` as its output, with its pidfd (opened from its pid on a
    /// kernel without CLONE_PIDFD); killed and reaped if it cannot be watched.
    private func adopt(
        _ outcome: Result<ChildSpawner.Spawned, SpawnError>, _ pipes: OutputPipes, _ slot: Int
    ) -> Result<ChildTable.Child, SpawnError> {
        let spawned: ChildSpawner.Spawned
        switch outcome {
        case .success(let value): spawned = value
        case .failure(let error):
            pipes.closeWriteEnds()
            pipes.closeReadEnds()
            return .failure(error)
        }
        pipes.closeWriteEnds()
        let pid = spawned.pid
        var child = ChildTable.Child(
            slot: slot, pid: pid, output: [.stdout: pipes.stdout.read, .stderr: pipes.stderr.read])
        // The pidfd was made with the child, so no other reaper can have taken it; only on a
        // kernel without CLONE_PIDFD is it opened from the pid, with that risk.
        if let pidfd = spawned.pidfd {
            child.pidfd = pidfd
            return .success(child)
        }
        do {
            child.pidfd = try Syscalls.pidfdOpen(pid)
        } catch {
            // The child runs but cannot be watched: kill and reap it, then report.
            _ = try? Syscalls.killProcessGroup(pid, SIGKILL)
            Syscalls.reap(pid)
            child.close()
            return .failure(forkError(slot, error.errno))
        }
        return .success(child)
    }

    /// Kills and reaps a child started for a slot no longer wanted (the server began to stop
    /// while it was being spawned), closing its pipes.
    func abandon(_ outcome: Result<ChildTable.Child, SpawnError>) {
        guard case .success(let child) = outcome else { return }
        _ = try? Syscalls.killProcessGroup(child.pid, SIGKILL)
        Syscalls.reap(child.pid)
        child.close()
    }

    /// The environment `slot`'s process was started with (a probe of it sees the same).
    func environment(of slot: Int) -> [String] {
        request(slot, output: (devNull, devNull)).environment
    }

    /// Starts a probe command: `/bin/sh -c command` with `environment`, its output to
    /// `/dev/null`, in a process group of its own (registered with the watchdog, as every
    /// child is); its pid and pidfd.
    func spawnProbe(_ command: String, environment: [String], slot: Int) throws(SpawnError) -> ChildSpawner.Spawned {
        let request = SpawnRequest(
            executable: "/bin/sh", arguments: ["/bin/sh", "-c", command], environment: environment,
            standardInput: devNull, standardOutput: devNull, standardError: devNull, inherited: [],
            setsListenPid: false, blockedSignals: [], slot: slot, watchdog: watchdog)
        var spawned = try ChildSpawner.spawn(request, via: spawnerForOneSpawn())
        if spawned.pidfd == nil {
            do {
                spawned.pidfd = try Syscalls.pidfdOpen(spawned.pid)
            } catch {
                _ = try? Syscalls.killProcessGroup(spawned.pid, SIGKILL)
                throw SpawnError(executable: "/bin/sh", stage: .fork, errno: error.errno, slot: slot)
            }
        }
        return spawned
    }

    /// Why `slot` could not be created (its process, pipes or pidfd): `errno` at the fork stage.
    private func forkError(_ slot: Int, _ errno: Errno) -> SpawnError {
        SpawnError(executable: plan.program(slot, seat: seat(slot)).executable, stage: .fork, errno: errno, slot: slot)
    }

    /// What exec needs to start `slot` writing to `output`.
    private func request(_ slot: Int, output: (stdout: CInt, stderr: CInt), fromDisk: Bool = false) -> SpawnRequest {
        plan.request(
            slot, seat: seat(slot), output: output, standardInput: devNull, watchdog: watchdog,
            notifyAddress: notifyAddress,
            workerCount: workerCount, fromDisk: fromDisk)
    }

    /// Where a spawn that is answered at once comes from: the spawner thread, unless submissions
    /// are waiting for their answers there (which come in order): then this thread.
    private func spawnerForOneSpawn() -> Spawner? {
        if spawnsFromThisThread {
            spawnsFromThisThread = false
            return nil
        }
        return submitted.isEmpty ? startSpawner() : nil
    }

    /// Starts the spawner thread with the descriptors every child may be given, without waiting
    /// for it: it makes its table while this thread prepares the run; and, when the run starts
    /// more than one child by exec and has more than one processor, up to ``maximumHelpers``
    /// more. A run of one child by exec spawns it from this thread instead (its table is small
    /// then), and starts the spawner thread with its next spawn. Idempotent.
    func prepareSpawner() {
        if configuration.slotCount == 1, execsAtStart == 1, spawner == nil, !spawnerUnavailable {
            spawnsFromThisThread = true
        } else {
            startSpawners()
        }
    }

    /// Starts the spawner thread, and the helpers a run that execs more than one child at its
    /// start may have, without waiting for them. Idempotent.
    private func startSpawners() {
        guard spawner == nil, !spawnerUnavailable else { return }
        let keep = [devNull] + [watchdog].compactMap { $0 } + payload.sockets.map(\.descriptor)
        do {
            spawner = try Spawner(keeping: keep)
        } catch {
            markSpawnerUnavailable(error)
            return
        }
        let wanted = min(Self.maximumHelpers, Syscalls.usableProcessors() - 1, execsAtStart - 1)
        for _ in 0..<max(0, wanted) {
            guard let helper = try? Spawner(keeping: keep) else { break }
            helpers.append(helper)
        }
    }

    /// At most how many spawner threads a run has besides the first.
    static let maximumHelpers = 3

    /// How many children the run's first start execs: every slot, but the workers a zygote forks.
    private var execsAtStart: Int {
        let forked =
            configuration.spawnStrategy == .zygote && configuration.programs.isEmpty
            && plan.workerProgram.role == .worker
        return forked ? configuration.extras.count : configuration.slotCount
    }

    /// The spawner thread whose turn it is to take a first start: a helper once it has its
    /// table (the first thread while it is still making it: a child must not wait for it), a
    /// helper that could not make one is let go (it has spawned nothing).
    private func spawnerForSubmission() -> Spawner? {
        while !helpers.isEmpty {
            let turn = submissions % (helpers.count + 1)
            guard turn > 0 else { break }
            do {
                if try helpers[turn - 1].hasTable() { return helpers[turn - 1] }
                break
            } catch {
                helpers.remove(at: turn - 1).stop()
                logger.debug("one spawner thread fewer: \(error)")
            }
        }
        return startSpawner()
    }

    /// The spawner thread, started on first use if ``prepareSpawner()`` has not, once it has
    /// its table.
    private func startSpawner() -> Spawner? {
        startSpawners()
        guard let spawner else { return nil }
        do {
            try spawner.awaitTable()
            return spawner
        } catch {
            spawner.stop()
            self.spawner = nil
            markSpawnerUnavailable(error)
            return nil
        }
    }

    private func markSpawnerUnavailable(_ error: SystemCallError) {
        spawnerUnavailable = true
        logger.warning("no spawner thread, spawning from the supervisor's thread: \(error)")
    }
}
