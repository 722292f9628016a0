import Glibc

/// Each process's own policies: its program's where the program sets them (a run of programs),
/// else the configuration's.
extension SupervisorCore {
    /// The definition of the program `index` belongs to, in a run of programs.
    func ownProgram(_ index: Int) -> Program? { slots[index].plan.program.map { gates[$0].program } }

    /// Whether the process in `index` is started again when it ends unasked.
    func restartPolicy(of index: Int) -> RestartPolicy { ownProgram(index)?.restartPolicy ?? restartPolicy }

    /// How its restarts are spaced, and when it gives up.
    func backoff(of index: Int) -> RestartBackoff { ownProgram(index)?.restartBackoff ?? backoff }

    /// How long it gets to end after its stop signal (nil: forever).
    func waitTimeout(of index: Int) -> Duration? { ownProgram(index)?.waitTimeout ?? waitTimeout }

    /// Whether its program sets a wait timeout of its own (its processes then have their own
    /// `SIGKILL` deadline in a stop).
    func hasOwnWaitTimeout(_ index: Int) -> Bool { ownProgram(index)?.waitTimeout != nil }

    /// The signal it is sent when the server stops with `signal`: its program's first stop
    /// signal, else `signal`.
    func stopSignal(of index: Int, forwarding signal: Signal) -> Signal {
        ownProgram(index)?.stopSignals?.first ?? signal
    }

    /// The signal it is sent when it alone is stopped (a restart, a reload, a scale-down): its
    /// program's stop signal, else the run's default.
    func defaultStopSignal(of index: Int) -> Signal {
        guard let own = ownProgram(index)?.stopSignals, let first = own.first else { return defaultStopSignal }
        return own.contains(.terminate) ? .terminate : first
    }

    /// Whether `signal` asks the process in `index` to stop.
    func isStopSignal(_ signal: Signal, of index: Int) -> Bool {
        stopSignals.contains(signal) || signal == defaultStopSignal
            || ownProgram(index)?.stopSignals?.contains(signal) == true
    }

    /// The time between its health checks and the failures in a row that make it unhealthy.
    func healthTiming(of index: Int) -> (interval: Duration, failures: Int) {
        guard let own = ownProgram(index)?.health else { return (healthInterval, healthFailures) }
        return (own.interval, own.failures)
    }

    /// The resident memory its process tree may use, in bytes (nil: no limit).
    func maxMemory(of index: Int) -> Int? { ownProgram(index)?.maxMemory ?? maxMemory }
}
