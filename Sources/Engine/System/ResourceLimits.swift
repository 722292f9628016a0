import Glibc

/// The soft resource limits that decide how many children a supervisor can start.
package enum ResourceLimits {
    /// The soft open-file limit the process had before ``raiseOpenFiles()``: what its children
    /// start with (programs that still use `select()` need descriptors below 1024). nil: never
    /// raised, children inherit the process's own.
    nonisolated(unsafe) private(set) static var childOpenFiles: UInt64?

    /// Raises the soft RLIMIT_NOFILE to the hard limit, as systemd and most servers do (a
    /// supervisor holds three descriptors a child); children get the original soft limit back.
    /// Call it once, first thing, before any thread starts.
    package static func raiseOpenFiles() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max
        else { return }
        let original = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        childOpenFiles = UInt64(original)
    }

    /// RLIMIT_NOFILE's soft value, or nil when unlimited or unreadable.
    package static var openFiles: UInt64? { soft(__rlimit_resource_t(RLIMIT_NOFILE.rawValue)) }

    /// RLIMIT_NPROC's soft value, or nil when unlimited or unreadable.
    static var processes: UInt64? { soft(__rlimit_resource_t(__RLIMIT_NPROC.rawValue)) }

    private static func soft(_ resource: __rlimit_resource_t) -> UInt64? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }
}
