import CProcessShims
import Glibc
import Synchronization

/// Turns signals into bytes on a non-blocking self-pipe, reliably in a process with any number
/// of threads: a process-wide `sigaction` handler (C, async-signal-safe) writes the signal
/// number, and the installing thread unblocks the signals. ``restore()`` puts back the previous
/// handlers and the thread's signal mask. A signal is watched by at most one pipe at a time.
package final class SignalPipe {
    /// Why a pipe could not be set up.
    package enum SetupError: Error, Sendable, CustomStringConvertible {
        /// Another ``SignalPipe`` in this process already watches this signal.
        case alreadyWatched(Signal)
        /// A system call failed.
        case system(SystemCallError)

        /// A one-line description for logs and reports.
        public var description: String {
            switch self {
            case .alreadyWatched(let signal): return "\(signal) is already watched in this process"
            case .system(let error): return error.description
            }
        }
    }

    private static let claimed = Mutex(Set<CInt>())

    /// The descriptor to poll; each byte read is one delivered signal.
    package let readDescriptor: CInt
    private let writeDescriptor: CInt
    private let signals: [Signal]
    private var previousActions: [(Signal, sigaction)] = []
    private let previousMask: sigset_t
    private var restored = false

    /// Installs handlers for `signals` and unblocks them in the calling thread.
    package init(signals: [Signal]) throws(SetupError) {
        let conflict: Signal? = Self.claimed.withLock { claimed in
            if let taken = signals.first(where: { claimed.contains($0.rawValue) }) { return taken }
            claimed.formUnion(signals.map(\.rawValue))
            return nil
        }
        if let conflict { throw .alreadyWatched(conflict) }
        self.signals = signals
        let fds: (read: CInt, write: CInt)
        do {
            fds = try Syscalls.pipe(nonBlocking: true)
        } catch {
            Self.release(signals)
            throw .system(error)
        }
        readDescriptor = fds.read
        writeDescriptor = fds.write
        var installedActions: [(Signal, sigaction)] = []
        do {
            for signal in signals {
                installedActions.append((signal, try Syscalls.installSignalHandler(signal, pipe: fds.write)))
            }
            previousActions = installedActions
            previousMask = try Syscalls.threadSignalMask(SIG_UNBLOCK, Syscalls.signalSet(signals))
        } catch {
            for (signal, action) in installedActions.reversed() { Syscalls.restoreSignalHandler(signal, action) }
            Syscalls.close(fds.read)
            Syscalls.close(fds.write)
            Self.release(signals)
            throw .system(error)
        }
    }

    private static func release(_ signals: [Signal]) {
        claimed.withLock { $0.subtract(signals.map(\.rawValue)) }
    }

    /// The signals delivered since the last call, in order (a burst of one signal may coalesce).
    package func drain() -> [Signal] {
        drainDeliveries().map(\.signal)
    }

    /// Like ``drain()``, with whether each came from the process marked by
    /// ``markSender(_:)``.
    func drainDeliveries() -> [(signal: Signal, fromMarkedSender: Bool)] {
        var deliveries: [(signal: Signal, fromMarkedSender: Bool)] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        let marked = UInt8(CORRAL_SIGNAL_FROM_MARKED_SENDER)
        while true {
            let count = buffer.withUnsafeMutableBytes { try? Syscalls.read(readDescriptor, into: $0) }
            guard let count = count ?? nil, count > 0 else { break }
            for byte in buffer[0..<count] {
                deliveries.append((Signal(rawValue: CInt(byte & ~marked)), byte & marked != 0))
            }
        }
        return deliveries
    }

    /// Marks the signals `pid` sends from now on (in ``drainDeliveries()``), process-wide.
    static func markSender(_ pid: pid_t) {
        corral_signal_mark_sender(pid)
    }

    /// Puts back the previous handlers and mask and closes the pipe. Idempotent.
    package func restore() {
        guard !restored else { return }
        restored = true
        Syscalls.restoreThreadSignalMask(previousMask)
        for (signal, action) in previousActions.reversed() { Syscalls.restoreSignalHandler(signal, action) }
        Syscalls.close(readDescriptor)
        Syscalls.close(writeDescriptor)
        Self.release(signals)
    }

    deinit { restore() }
}
