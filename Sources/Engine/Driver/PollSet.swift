import Glibc
import SystemPackage

/// The descriptors one driver iteration waits on, each under the name of what it is, so the
/// loop asks "is the notify socket readable?" instead of counting positions.
struct PollSet {
    /// What a descriptor in the set is.
    enum Source: Hashable {
        /// The stop-signal pipe.
        case signals
        /// The command signals' signalfd.
        case commandSignals
        /// The notify socket.
        case notify
        /// The zygote's control socket.
        case zygote
        /// The control socket of a zygote a reload replaced (it reports its workers' exits).
        case retiredZygote(Int)
        /// The children's epoll set.
        case children
        /// A descriptor the front end reads.
        case frontend(FileDescriptor)
        /// A descriptor the front end waits to write to.
        case frontendOutput(FileDescriptor)
        /// A probe's socket or probe command's pidfd (``ProbeRunner``), by the probe's id.
        case probe(Int)
        /// The watchdog's pidfd: readable if it ended.
        case watchdog
    }

    private var fds: [pollfd] = []
    private var sources: [Source] = []

    /// Adds `fd` as `source` (a negative `fd` is skipped by poll).
    mutating func add(_ source: Source, _ fd: CInt, writing: Bool = false) {
        fds.append(pollfd(fd: fd, events: Int16(writing ? POLLOUT : POLLIN), revents: 0))
        sources.append(source)
    }

    /// poll(2) on the set.
    mutating func wait(timeoutMilliseconds timeout: CInt) throws(SystemCallError) {
        _ = try Syscalls.poll(&fds, timeoutMilliseconds: timeout)
    }

    /// Whether `source` is readable (or writable, for front-end output), closed or in error.
    func isReady(_ source: Source) -> Bool {
        guard let index = sources.firstIndex(of: source) else { return false }
        return fds[index].revents & Int16(POLLIN | POLLOUT | POLLHUP | POLLERR) != 0
    }

    /// Whether a retired zygote's control socket is readable.
    var anyRetiredZygoteReady: Bool {
        zip(sources, fds).contains { source, fd in
            guard case .retiredZygote = source else { return false }
            return fd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
        }
    }

    /// The probes whose descriptor is ready.
    var readyProbes: [Int] {
        zip(sources, fds).compactMap { source, fd in
            guard case .probe(let id) = source, fd.revents & Int16(POLLIN | POLLOUT | POLLHUP | POLLERR) != 0
            else { return nil }
            return id
        }
    }

    /// The front end's readable descriptors.
    var readableFrontend: [FileDescriptor] {
        zip(sources, fds).compactMap { source, fd in
            guard case .frontend(let descriptor) = source, fd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
            else { return nil }
            return descriptor
        }
    }
}
