import CProcessShims

/// The children's descriptors (output pipes, pidfds) in one epoll set: the driver polls the
/// set's one descriptor and then asks which are ready, so a loop iteration costs in proportion
/// to what happened, not to how many children run (4,096 workers have 12,288 descriptors).
final class ChildWatch {
    /// What a ready descriptor is to its child.
    enum Role: UInt64 {
        case stdout = 0
        case stderr = 1
        case exit = 2
    }

    /// The epoll descriptor, for `poll`.
    let descriptor: CInt
    private var tokens = [UInt64](repeating: 0, count: 256)

    init() throws(SystemCallError) {
        descriptor = try Syscalls.retrying("epoll_create1", context: "child watch") { corral_epoll_create() }
    }

    deinit { Syscalls.close(descriptor) }

    /// Watches `fd` for readability as `role` of the child `pid`.
    func add(_ fd: CInt, pid: pid_t, role: Role) {
        _ = corral_epoll_add(descriptor, fd, UInt64(UInt32(bitPattern: pid)) << 2 | role.rawValue)
    }

    /// Stops watching `fd` (before it is closed).
    func remove(_ fd: CInt) {
        _ = corral_epoll_remove(descriptor, fd)
    }

    /// The descriptors ready now (at most 256; the rest are ready again next time).
    func ready() -> [(pid: pid_t, role: Role)] {
        let count = tokens.withUnsafeMutableBufferPointer { corral_epoll_ready(descriptor, $0.baseAddress, 256) }
        guard count > 0 else { return [] }
        return tokens[0..<Int(count)].compactMap { token in
            Role(rawValue: token & 3).map { (pid_t(bitPattern: UInt32(truncatingIfNeeded: token >> 2)), $0) }
        }
    }
}
