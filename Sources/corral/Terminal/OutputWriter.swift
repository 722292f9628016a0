import CorralEngine
import Glibc

/// Writes whole lines to standard output without ever blocking the supervisor's loop: a reader
/// that stalls (`| sleep 25`), a terminal stopped with Ctrl-S, or a pipe that fills only make
/// lines wait in a bounded buffer, and then be dropped and counted — children's output lines
/// first (past ``outputBudget`` waiting bytes), event lines only past the larger
/// ``eventBudget``. A reader that is gone (`EPIPE`, `| head -1`) is reported through
/// ``consumerGone``; corral ignores `SIGPIPE`, so it never dies of it.
///
/// Lines are gathered and written together at ``flush()`` (the front ends flush once per
/// driver iteration) or when 64 KiB are waiting, so a flood costs one `write` per batch.
/// Writes go through a description of their own opened non-blocking (`/proc/self/fd/1` for a
/// pipe or terminal; `MSG_DONTWAIT` for a socket), so the shell's shared description keeps
/// its flags. A regular file is written as it is: it does not stall.
final class OutputWriter {
    /// Children's output lines are dropped while this many bytes wait.
    static let outputBudget = 1 << 20
    /// Event lines are dropped only while this many bytes wait.
    static let eventBudget = 4 << 20
    private static let batchLimit = 64 * 1024

    private enum Target {
        /// A description of our own with `O_NONBLOCK` (closed at the end).
        case nonBlocking(CInt)
        /// A socket: `send` with `MSG_DONTWAIT`.
        case socket(CInt)
        /// A regular file (or what could not be reopened): plain `write`.
        case plain(CInt)

        var descriptor: CInt {
            switch self {
            case .nonBlocking(let fd), .socket(let fd), .plain(let fd): return fd
            }
        }
    }

    private let descriptor: CInt
    private let target: Target
    private var pending: [UInt8] = []
    /// Bytes at the start of `pending` already written.
    private var written = 0
    /// The last write would have blocked: wait for the descriptor to be writable.
    private(set) var isBlocked = false
    /// Lines dropped and not yet reported in the stream.
    private var unreportedDrops = 0
    /// Every line dropped in the run.
    private(set) var droppedLines = 0
    /// The reader closed its end (`EPIPE`, a terminal that hung up): nothing more is written.
    private(set) var consumerGone = false
    /// A write failed for another reason (a full disk) and that was said on standard error.
    private(set) var writeErrorReported = false
    /// The line that reports `count` dropped lines, in the stream's own format.
    var dropNotice: (Int) -> String = { "corral: \($0) lines dropped: the reader of corral's output did not keep up" }

    init(descriptor: CInt = STDOUT_FILENO) {
        self.descriptor = descriptor
        target = Self.openTarget(descriptor)
    }

    deinit {
        if case .nonBlocking(let fd) = target { close(fd) }
    }

    /// Whether the descriptor is a terminal (colour is only used then).
    var isTerminal: Bool { isatty(descriptor) == 1 }

    /// Lines wait that a flush could write now (they came after this iteration's flush).
    var hasUnflushedLines: Bool { !isBlocked && !consumerGone && written < pending.count }

    /// The descriptor to poll for `POLLOUT` while lines wait, or nil.
    var blockedDescriptor: CInt? { isBlocked && !consumerGone ? target.descriptor : nil }

    /// Queues an event line (kept until ``eventBudget`` bytes wait).
    func event(_ line: String) { append(line, budget: Self.eventBudget) }

    /// Queues a line of a child's output (dropped first, past ``outputBudget`` waiting bytes).
    func output(_ line: String) { append(line, budget: Self.outputBudget) }

    private func append(_ line: String, budget: Int) {
        guard !consumerGone else { return }
        guard pending.count - written < budget else {
            unreportedDrops += 1
            droppedLines += 1
            return
        }
        pending.append(contentsOf: line.utf8)
        pending.append(UInt8(ascii: "\n"))
        if !isBlocked, pending.count - written >= Self.batchLimit { flush() }
    }

    /// Writes what it can of the waiting lines without blocking; then, once all is out, the
    /// count of lines dropped meanwhile.
    func flush() {
        writeWaiting()
        if unreportedDrops > 0, !isBlocked, !consumerGone {
            let notice = dropNotice(unreportedDrops)
            unreportedDrops = 0
            pending.append(contentsOf: notice.utf8)
            pending.append(UInt8(ascii: "\n"))
            writeWaiting()
        }
    }

    /// Flushes, waiting at most `limit` for a slow reader; returns the bytes that could not be
    /// written (dropped with the writer).
    @discardableResult
    func finish(within limit: Duration) -> Int {
        let deadline = ContinuousClock.now + limit
        flush()
        while isBlocked, !consumerGone {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { break }
            var fds = [pollfd(fd: target.descriptor, events: Int16(POLLOUT), revents: 0)]
            let milliseconds = CInt(clamping: left.components.seconds * 1000 + 1)
            _ = poll(&fds, 1, milliseconds)
            flush()
        }
        let lost = consumerGone ? 0 : pending.count - written
        pending.removeAll()
        written = 0
        return lost
    }

    private func writeWaiting() {
        guard !consumerGone else { return }
        isBlocked = false
        while written < pending.count {
            let result = pending[written...].withUnsafeBytes { bytes -> Int in
                switch target {
                case .socket(let fd): return send(fd, bytes.baseAddress, bytes.count, CInt(MSG_DONTWAIT | MSG_NOSIGNAL))
                case .nonBlocking(let fd), .plain(let fd): return write(fd, bytes.baseAddress, bytes.count)
                }
            }
            if result >= 0 {
                written += result
                continue
            }
            let error = errno
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: isBlocked = true
            case EPIPE, EIO, ENXIO, EBADF:
                // The reader went away (a closed pipe, a terminal that hung up).
                consumerGone = true
                pending.removeAll()
                written = 0
                return
            default:
                // A full disk, a quota, an I/O error of the file: what waits is dropped and
                // counted, said once on standard error; later lines try again.
                let lost = pending[written...].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                droppedLines += lost
                pending.removeAll()
                written = 0
                if !writeErrorReported {
                    writeErrorReported = true
                    let reason = String(cString: strerror(error))
                    FileError.writeWithoutBlocking(
                        "corral: cannot write its output (\(reason), errno \(error)): lines are dropped and counted "
                            + "until writing works again; supervision goes on")
                }
                return
            }
            break
        }
        if written == pending.count {
            pending.removeAll(keepingCapacity: pending.count <= 4 * Self.batchLimit)
            written = 0
        } else if written >= Self.batchLimit {
            pending.removeFirst(written)
            written = 0
        }
    }

    /// A way to write `descriptor` that cannot block, where there is one.
    private static func openTarget(_ descriptor: CInt) -> Target {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .plain(descriptor) }
        switch info.st_mode & S_IFMT {
        case S_IFSOCK:
            return .socket(descriptor)
        case S_IFIFO, S_IFCHR:
            let own = open("/proc/self/fd/\(descriptor)", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            if own >= 0 { return .nonBlocking(own) }
            // A pipe whose reader is already gone cannot be opened (ENXIO): writes fail the same.
            return .plain(descriptor)
        default:
            return .plain(descriptor)
        }
    }
}
