import CProcessShims
import Glibc
import Synchronization

/// The zygote's side: entered from ``Server/run(sharing:main:worker:)`` when the supervisor
/// started this process as a zygote. Forks one worker per request; returns only in a worker.
enum ZygoteRuntime {
    /// In a child the zygote forked: the supervisor's pid (the child's parent is the zygote);
    /// else 0. Set in the child before any worker code runs.
    private static let supervisorOfForkedChild = Atomic<pid_t>(0)

    /// Whether this process is a child the zygote forked.
    static var isForkedChild: Bool { supervisorOfForkedChild.load(ordering: .relaxed) != 0 }

    /// The supervisor of this Swift child: the zygote's parent in a forked child, else the parent.
    static var supervisorPid: pid_t {
        let forked = supervisorOfForkedChild.load(ordering: .relaxed)
        return forked != 0 ? forked : getppid()
    }

    /// If this process is a zygote, serves until the supervisor's run ends (then exits) and
    /// returns in each forked worker, with the worker's environment in place for
    /// ``ChildRole/detect()``. Returns at once in any other process.
    static func serveIfZygote() {
        let supervisor = getppid()
        guard let control = Environment.value(of: Zygote.controlVariable).flatMap({ CInt($0) }),
            Environment.value(of: ChildEnvironment.supervisorPid).flatMap({ pid_t($0) }) == supervisor
        else { return }
        Environment.remove(Zygote.controlVariable)
        let watchdog = Environment.value(of: Zygote.watchdogVariable).flatMap { CInt($0) } ?? -1
        Environment.remove(Zygote.watchdogVariable)
        let inherited = Environment.value(of: ChildEnvironment.listenFds).flatMap { Int32($0) } ?? 0
        let stopSignals = (Environment.value(of: ChildEnvironment.stopSignals) ?? "")
            .split(separator: ",").compactMap { CInt($0) }.map(Signal.init(rawValue:))
        WorkerRuntime.rehearse(stopSignals: stopSignals)
        // Forking is only safe while no other thread exists (no concurrency, no Dispatch yet).
        guard ProcessTable.threadCount() == 1 else {
            _ = corral_zygote_refuse(control)
            exit(WorkerExitCode.setupFailure)
        }
        var mask = Syscalls.signalSet(stopSignals)
        var slot: CInt = -1
        switch corral_zygote_serve(control, inherited, &mask, watchdog, &slot) {
        case 0:
            // A new worker: its own slot, pid and parent (this zygote) in the environment.
            supervisorOfForkedChild.store(supervisor, ordering: .relaxed)
            setenv(ChildEnvironment.processIndex, String(slot), 1)
            setenv(ChildEnvironment.supervisorPid, String(getppid()), 1)
            if inherited > 0 { setenv(ChildEnvironment.listenPid, String(getpid()), 1) }
        case 1:
            exit(0)
        default:
            exit(WorkerExitCode.setupFailure)
        }
    }
}
