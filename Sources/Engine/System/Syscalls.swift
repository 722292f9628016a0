import CProcessShims
import Glibc
import SystemPackage

/// Every raw system call the engine makes, wrapped once: `EINTR` retried (never for `close`),
/// `errno` read at once and thrown as a ``SystemCallError``.
package enum Syscalls {
    /// Runs `body` until it does not fail with `EINTR`; a result of -1 throws with `errno`.
    @discardableResult
    static func retrying<Result: BinaryInteger>(
        _ operation: String, context: @autoclosure () -> String? = nil, _ body: () -> Result
    ) throws(SystemCallError) -> Result {
        while true {
            let result = body()
            if result != -1 { return result }
            let error = Glibc.errno
            if error == EINTR { continue }
            throw SystemCallError(operation, errno: Errno(rawValue: error), context: context())
        }
    }

    /// A pipe whose both ends are close-on-exec; `nonBlocking` applies to both ends.
    static func pipe(nonBlocking: Bool) throws(SystemCallError) -> (read: CInt, write: CInt) {
        var fds: (CInt, CInt) = (-1, -1)
        let flags = O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)
        try retrying("pipe2") {
            withUnsafeMutableBytes(of: &fds) { corral_pipe2($0.baseAddress?.assumingMemoryBound(to: CInt.self), flags) }
        }
        return fds
    }

    /// Reads up to `buffer.count` bytes; returns nil when a non-blocking descriptor has nothing.
    static func read(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int? {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return nil }
            throw SystemCallError("read", errno: Errno(rawValue: error), context: "fd \(fd)")
        }
    }

    /// Writes all of `bytes` to a blocking descriptor.
    static func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let written = try retrying("write", context: "fd \(fd)") {
                Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            offset += written
        }
    }

    /// Reads a small file (one read: /proc) into `buffer`: the byte count, or nil when it cannot
    /// be opened or read.
    static func readSmallFile(_ path: String, into buffer: inout [UInt8]) -> Int? {
        guard let fd = try? open(path, flags: O_RDONLY) else { return nil }
        defer { close(fd) }
        return buffer.withUnsafeMutableBytes { try? read(fd, into: $0) } ?? nil
    }

    /// Every byte of a file (read until its end: /proc files longer than a page come in several
    /// reads), or nil if it cannot be opened or read.
    static func readWholeFile(_ path: String) -> [UInt8]? {
        guard let fd = try? open(path, flags: O_RDONLY) else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            guard let count = buffer.withUnsafeMutableBytes({ try? read(fd, into: $0) }) ?? nil else { return nil }
            if count == 0 { return bytes }
            bytes += buffer[..<count]
        }
    }

    /// Closes a descriptor once; `EINTR` is not retried (the descriptor is gone either way).
    static func close(_ fd: CInt) {
        _ = Glibc.close(fd)
    }

    /// readlink(2): where the symbolic link `path` points, or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { pointer -> Int in
            guard let base = pointer.baseAddress else { return -1 }
            return Glibc.readlink(path, base, Int(PATH_MAX))
        }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Opens `path` close-on-exec.
    static func open(_ path: String, flags: CInt) throws(SystemCallError) -> CInt {
        try retrying("open", context: path) { Glibc.open(path, flags | O_CLOEXEC) }
    }

    /// poll(2); returns the number of ready descriptors. A negative timeout waits forever.
    static func poll(_ fds: inout [pollfd], timeoutMilliseconds: CInt) throws(SystemCallError) -> Int {
        let count = fds.count
        let ready = try retrying("poll") {
            fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t(count), timeoutMilliseconds) }
        }
        return Int(ready)
    }

    /// A non-blocking, close-on-exec eventfd(2) counter starting at zero.
    static func eventCounter() throws(SystemCallError) -> CInt {
        try retrying("eventfd") { corral_eventfd() }
    }

    /// Adds one to an eventfd counter, making it readable; a full counter is readable already.
    static func incrementEventCounter(_ fd: CInt) {
        var one: UInt64 = 1
        _ = try? retrying("write", context: "eventfd \(fd)") { Glibc.write(fd, &one, 8) }
    }

    /// Resets an eventfd counter to zero (nothing to read is not an error).
    static func resetEventCounter(_ fd: CInt) {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { try? read(fd, into: $0) }
    }

    /// pidfd_open(2).
    static func pidfdOpen(_ pid: pid_t) throws(SystemCallError) -> CInt {
        try retrying("pidfd_open", context: "pid \(pid)") { corral_pidfd_open(pid) }
    }

    /// pidfd_send_signal(2). Returns false when the process has already exited (`ESRCH`).
    static func pidfdSendSignal(_ pidfd: CInt, _ signal: CInt, pid: pid_t) throws(SystemCallError) -> Bool {
        do {
            try retrying("pidfd_send_signal", context: "pid \(pid), signal \(signal)") {
                corral_pidfd_send_signal(pidfd, signal)
            }
            return true
        } catch  where error.errno == .noSuchProcess {
            return false
        }
    }

    /// kill(2) to a whole process group. Returns false when the group is empty (`ESRCH`).
    static func killProcessGroup(_ group: pid_t, _ signal: CInt) throws(SystemCallError) -> Bool {
        do {
            try retrying("kill", context: "process group \(group), signal \(signal)") { Glibc.kill(-group, signal) }
            return true
        } catch  where error.errno == .noSuchProcess {
            return false
        }
    }

    /// getpgid(2): the process group of `pid`, or nil if it cannot be told (it is gone).
    static func processGroup(of pid: pid_t) -> pid_t? {
        let group = getpgid(pid)
        return group < 0 ? nil : group
    }

    /// kill(2) to one process.
    static func kill(_ pid: pid_t, _ signal: CInt) throws(SystemCallError) {
        try retrying("kill", context: "pid \(pid), signal \(signal)") { Glibc.kill(pid, signal) }
    }

    /// waitid(P_PIDFD): how the child ended, or nil if it is still running (with `noHang`).
    static func waitPidfd(_ pidfd: CInt, pid: pid_t, noHang: Bool) throws(SystemCallError) -> WaitStatus? {
        var code: CInt = 0
        var status: CInt = 0
        var reaped: pid_t = 0
        try retrying("waitid", context: "pid \(pid)") {
            corral_waitid_pidfd(pidfd, noHang ? WNOHANG : 0, &code, &status, &reaped)
        }
        let wait = WaitStatus(code: code, status: status)
        return wait.isEnd ? wait : nil
    }

    /// An `AF_UNIX` datagram socket, close-on-exec and non-blocking.
    static func datagramSocket() throws(SystemCallError) -> CInt {
        try retrying("socket", context: "AF_UNIX datagram") {
            socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0)
        }
    }

    /// setsockopt(SOL_SOCKET, option, 1).
    static func enableSocketOption(_ fd: CInt, _ option: CInt, name: String) throws(SystemCallError) {
        var on: CInt = 1
        try retrying("setsockopt", context: name) {
            setsockopt(fd, SOL_SOCKET, option, &on, socklen_t(MemoryLayout<CInt>.size))
        }
    }

    /// setsockopt(SO_PASSRIGHTS, 0) (Linux 6.16 and later): senders of `SCM_RIGHTS` get `EPERM`.
    /// Older kernels refuse the option; there passed descriptors are dropped unread (the
    /// receive buffer has room for credentials only).
    static func refusePassedDescriptors(_ fd: CInt) {
        var off: CInt = 0
        _ = setsockopt(fd, SOL_SOCKET, corral_so_passrights(), &off, socklen_t(MemoryLayout<CInt>.size))
    }

    /// mkdtemp(3): a new directory, mode 0700, from a template ending in `XXXXXX`.
    static func makePrivateDirectory(_ template: String) throws(SystemCallError) -> String {
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkdtemp($0) } ?? nil }
        guard made != nil else {
            throw SystemCallError("mkdtemp", errno: Errno(rawValue: Glibc.errno), context: template)
        }
        return String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// unlink(2), ignoring failure (the file may be gone already).
    static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    /// rmdir(2), ignoring failure.
    @discardableResult
    static func removeDirectory(_ path: String) -> Bool { rmdir(path) == 0 }

    /// Binds an `AF_UNIX` socket to `name` (a leading `@` is the abstract namespace).
    static func bindUnix(_ fd: CInt, name: String) throws(SystemCallError) {
        try retrying("bind", context: name) { corral_unix_bind(fd, name) }
    }

    /// Sends one datagram to the `AF_UNIX` address `name`.
    static func sendUnixDatagram(to name: String, _ bytes: [UInt8]) throws(SystemCallError) {
        try retrying("sendto", context: name) {
            bytes.withUnsafeBytes { corral_unix_send(name, $0.baseAddress, $0.count) }
        }
    }

    /// Receives one datagram with its sender's pid; nil when none is waiting.
    static func receiveWithCredentials(
        _ fd: CInt, into buffer: UnsafeMutableRawBufferPointer
    ) throws(SystemCallError) -> (length: Int, pid: pid_t, truncated: Bool)? {
        while true {
            var pid: pid_t = 0
            var truncated: CInt = 0
            let length = corral_recv_with_credentials(fd, buffer.baseAddress, buffer.count, &pid, &truncated)
            if length >= 0 { return (min(Int(length), buffer.count), pid, truncated != 0) }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return nil }
            throw SystemCallError("recvmsg", errno: Errno(rawValue: error), context: "notify socket")
        }
    }

    /// Sets or clears `O_NONBLOCK`.
    static func setNonBlocking(_ fd: CInt) throws(SystemCallError) {
        let flags = try retrying("fcntl", context: "fd \(fd)") { fcntl(fd, F_GETFL) }
        try retrying("fcntl", context: "fd \(fd)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Makes a new pipe's end non-blocking with one fcntl(2): its other status flags are known
    /// to be clear, so they need not be read first (as ``setNonBlocking(_:)`` does).
    static func setNonBlocking(newPipeEnd fd: CInt) throws(SystemCallError) {
        try retrying("fcntl", context: "fd \(fd)") { fcntl(fd, F_SETFL, O_NONBLOCK) }
    }

    /// pthread_sigmask(2): applies `how` with `set` to the calling thread; returns the old mask.
    static func threadSignalMask(_ how: CInt, _ set: sigset_t) throws(SystemCallError) -> sigset_t {
        var set = set
        var old = sigset_t()
        let result = pthread_sigmask(how, &set, &old)
        if result != 0 { throw SystemCallError("pthread_sigmask", errno: Errno(rawValue: result)) }
        return old
    }

    /// Sets the calling thread's signal mask exactly.
    static func restoreThreadSignalMask(_ mask: sigset_t) {
        var mask = mask
        _ = pthread_sigmask(SIG_SETMASK, &mask, nil)
    }

    /// A signal set holding `signals`.
    static func signalSet(_ signals: [Signal]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal.rawValue) }
        return set
    }

    /// Installs the engine's self-pipe handler for `signal`, writing to `pipe`; returns the
    /// previous action.
    static func installSignalHandler(_ signal: Signal, pipe: CInt) throws(SystemCallError) -> sigaction {
        var previous = sigaction()
        try retrying("sigaction", context: signal.name) { corral_signal_install(signal.rawValue, pipe, &previous) }
        return previous
    }

    /// Puts back a signal action saved by ``installSignalHandler(_:)``.
    static func restoreSignalHandler(_ signal: Signal, _ previous: sigaction) {
        var previous = previous
        _ = corral_signal_restore(signal.rawValue, &previous)
    }

    /// What a non-blocking `accept4` found.
    enum Accepted {
        case accepted(CInt)
        /// Nothing waiting (`EAGAIN`), or the connection was reset before it was taken.
        case nothing
        case failed(SystemCallError)
    }

    /// accept4(2), the new socket non-blocking and close-on-exec.
    static func acceptNonBlocking(_ socket: CInt) -> Accepted {
        while true {
            let fd = corral_accept4(socket, CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue))
            if fd >= 0 { return .accepted(fd) }
            let error = Glibc.errno
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO: return .nothing
            default: return .failed(SystemCallError("accept4", errno: Errno(rawValue: error), context: "fd \(socket)"))
            }
        }
    }

    /// The pid of a child that has ended and not been reaped, without reaping it; nil if none.
    static func peekEndedChild() -> pid_t? {
        var info = siginfo_t()
        while true {
            let result = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)
            if result == 0 {
                let pid = info._sifields._sigchld.si_pid
                return pid == 0 ? nil : pid
            }
            if Glibc.errno == EINTR { continue }
            return nil
        }
    }

    /// prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants are re-parented to this process.
    static func setChildSubreaper(_ on: Bool) {
        _ = corral_set_child_subreaper(on ? 1 : 0)
    }

    /// How many processors this thread may run on: sched_getaffinity(2)'s mask, 1 when it
    /// cannot be read.
    static func usableProcessors() -> Int {
        max(1, Int(corral_usable_processors()))
    }

    /// waitpid(2) for one child, blocking until it has ended.
    static func reap(_ pid: pid_t) {
        var status: CInt = 0
        _ = try? retrying("waitpid", context: "pid \(pid)") { waitpid(pid, &status, 0) }
    }

    /// A connected `AF_UNIX` `SOCK_SEQPACKET` pair, close-on-exec.
    static func seqpacketPair() throws(SystemCallError) -> (CInt, CInt) {
        var fds: [CInt] = [-1, -1]
        try retrying("socketpair", context: "AF_UNIX seqpacket") {
            fds.withUnsafeMutableBufferPointer {
                socketpair(AF_UNIX, CInt(SOCK_SEQPACKET.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress)
            }
        }
        return (fds[0], fds[1])
    }

    /// The calling process's pid.
    static var processID: pid_t { getpid() }
}

extension Syscalls {
    /// Starts a non-blocking TCP connection to `address`: the socket, and whether it is
    /// connected already (else poll it for writing, then read ``socketError(_:)``).
    static func connectNonBlocking(_ address: SocketAddress) throws(SystemCallError) -> (fd: CInt, connected: Bool) {
        let fd = try retrying("socket", context: "TCP probe") {
            socket(
                address.family,
                CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0)
        }
        var target = address.storage
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if result == 0 { return (fd, true) }
        let error = Glibc.errno
        // A connect interrupted by a signal goes on by itself, as one in progress does.
        if error == EINPROGRESS || error == EINTR { return (fd, false) }
        Glibc.close(fd)
        throw SystemCallError("connect", errno: Errno(rawValue: error))
    }

    /// The pending error of a socket (`SO_ERROR`): nil once a non-blocking connect succeeded.
    static func socketError(_ fd: CInt) -> Errno? {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return Errno(rawValue: Glibc.errno) }
        return value == 0 ? nil : Errno(rawValue: value)
    }

    /// Writes what a non-blocking descriptor takes now: the byte count (0 when it takes
    /// nothing). Never raises `SIGPIPE`.
    static func sendSome(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws(SystemCallError) -> Int {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL))
            if count >= 0 { return count }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return 0 }
            throw SystemCallError("send", errno: Errno(rawValue: error), context: "fd \(fd)")
        }
    }
}

extension Syscalls {
    /// Whether this process has a controlling terminal that has not hung up: `/dev/tty` opens
    /// (after a hangup the kernel has detached it, so it no longer does).
    static func canOpenControllingTerminal() -> Bool {
        let fd = Glibc.open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        Glibc.close(fd)
        return true
    }
}

extension Syscalls {
    /// Runs `body` with `signal` blocked on this thread; one it raised meanwhile (a `SIGPIPE` of
    /// a write to a closed pipe) is taken back before the mask is restored.
    static func withSignalBlocked(_ signal: CInt, _ body: () -> Void) {
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, signal)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &only, &previous)
        body()
        var zero = timespec(tv_sec: 0, tv_nsec: 0)
        while sigtimedwait(&only, nil, &zero) == signal {}
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }
}
