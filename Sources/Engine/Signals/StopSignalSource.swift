import CProcessShims
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Turns stop signals into bytes on a non-blocking self-pipe, reliably in a process with any
/// number of threads: a process-wide `sigaction` handler (C, async-signal-safe) writes the signal
/// number, and the installing thread unblocks the signals. ``restore()`` puts back the previous
/// handlers and the thread's signal mask. One source may be installed per process at a time.
final class StopSignalSource {
    private static let installed = Mutex(false)

    /// The descriptor to poll; each byte read is one delivered signal.
    let readDescriptor: CInt
    private let writeDescriptor: CInt
    private var previousActions: [(Signal, sigaction)] = []
    private let previousMask: sigset_t
    private var restored = false

    /// Installs handlers for `signals` and unblocks them in the calling thread.
    /// Throws if another source is installed in this process, or a system call fails.
    init(signals: [Signal]) throws(SupervisorError) {
        let acquired = Self.installed.withLock { taken in
            if taken { return false }
            taken = true
            return true
        }
        guard acquired else { throw .alreadyRunning }
        let fds: (read: CInt, write: CInt)
        do {
            fds = try Syscalls.pipe(nonBlocking: true)
        } catch {
            Self.installed.withLock { $0 = false }
            throw .system(error)
        }
        readDescriptor = fds.read
        writeDescriptor = fds.write
        corral_signal_set_pipe(writeDescriptor)
        var installedActions: [(Signal, sigaction)] = []
        do {
            for signal in signals {
                installedActions.append((signal, try Syscalls.installSignalHandler(signal)))
            }
            previousActions = installedActions
            previousMask = try Syscalls.threadSignalMask(SIG_UNBLOCK, Syscalls.signalSet(signals))
        } catch {
            for (signal, action) in installedActions.reversed() { Syscalls.restoreSignalHandler(signal, action) }
            corral_signal_set_pipe(-1)
            Syscalls.close(fds.read)
            Syscalls.close(fds.write)
            Self.installed.withLock { $0 = false }
            throw .system(error)
        }
    }

    /// The signals delivered since the last call, in order (a burst of one signal may coalesce).
    func drain() -> [Signal] {
        var signals: [Signal] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { try? Syscalls.read(readDescriptor, into: $0) }
            guard let count = count ?? nil, count > 0 else { break }
            signals += buffer[0..<count].map { Signal(rawValue: CInt($0)) }
        }
        return signals
    }

    /// Puts back the previous handlers and mask and closes the pipe. Idempotent.
    func restore() {
        guard !restored else { return }
        restored = true
        Syscalls.restoreThreadSignalMask(previousMask)
        for (signal, action) in previousActions.reversed() { Syscalls.restoreSignalHandler(signal, action) }
        corral_signal_set_pipe(-1)
        Syscalls.close(readDescriptor)
        Syscalls.close(writeDescriptor)
        Self.installed.withLock { $0 = false }
    }

    deinit { restore() }
}
