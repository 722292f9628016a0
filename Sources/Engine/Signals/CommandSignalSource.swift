import CProcessShims
import Glibc

/// The signals that ask the supervisor for a command, read from a signalfd: they stay blocked,
/// so a terminal's job control (which sends `SIGTTIN` / `SIGTTOU` only to processes that do not
/// block them) turns into `EIO` for the reader instead of a signal, and only signals another
/// process sent (`kill`, `sigqueue`) are reported. Every thread of the process must block them
/// (block them before starting threads), or one that does not may take them instead.
final class CommandSignalSource {
    /// A signal read, and whether a process sent it (not the kernel).
    struct Received: Hashable {
        var signal: Signal
        var sentByProcess: Bool
    }

    /// The descriptor to poll.
    let descriptor: CInt
    private let previousMask: sigset_t

    /// Blocks `signals` in the calling thread and opens their signalfd.
    init(signals: [Signal]) throws(SystemCallError) {
        let set = Syscalls.signalSet(signals)
        previousMask = try Syscalls.threadSignalMask(SIG_BLOCK, set)
        var watched = set
        do {
            descriptor = try Syscalls.retrying("signalfd") { corral_signalfd(&watched) }
        } catch {
            _ = try? Syscalls.threadSignalMask(SIG_SETMASK, previousMask)
            throw error
        }
    }

    /// Closes the signalfd and puts the calling thread's mask back.
    func close() {
        Syscalls.close(descriptor)
        _ = try? Syscalls.threadSignalMask(SIG_SETMASK, previousMask)
    }

    /// The signals pending now, oldest first.
    func drain() -> [Received] {
        var received: [Received] = []
        var number: CInt = 0
        var code: CInt = 0
        var sender: pid_t = 0
        while received.count < 1024, corral_signalfd_read(descriptor, &number, &code, &sender) == 1 {
            received.append(
                Received(signal: Signal(rawValue: number), sentByProcess: code == SI_USER || code == SI_QUEUE))
        }
        return received
    }
}
