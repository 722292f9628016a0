import Glibc
import Synchronization

extension Watchdog {
    /// The watchdog started ahead of the process's first run, until that run takes it.
    private static let early = Mutex<Watchdog?>(nil)

    /// Starts the watchdog the process's first run will take, so that its start (a vfork and
    /// an exec of this binary, on a thread of its own) overlaps the caller's own start-up
    /// (corral's argument parsing) instead of the run's. One that no run takes is told to go
    /// and reaped when the process exits; killed before, it has nothing to kill (no child has
    /// registered with it). Does nothing if one is already waiting.
    static func startEarly() {
        let started: Bool = early.withLock { waiting in
            guard waiting == nil else { return false }
            waiting = try? Watchdog()
            return waiting != nil
        }
        guard started else { return }
        atexit { Watchdog.takeEarly()?.disarm() }
    }

    /// The watchdog ``startEarly()`` started, once: nil if there is none (or it was taken).
    static func takeEarly() -> Watchdog? {
        early.withLock { waiting in
            let taken = waiting
            waiting = nil
            return taken
        }
    }
}
