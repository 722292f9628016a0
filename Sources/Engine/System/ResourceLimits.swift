import Glibc

/// The soft resource limits that decide how many children a supervisor can start.
enum ResourceLimits {
    /// RLIMIT_NOFILE's soft value, or nil when unlimited or unreadable.
    static var openFiles: UInt64? { soft(__rlimit_resource_t(RLIMIT_NOFILE.rawValue)) }

    /// RLIMIT_NPROC's soft value, or nil when unlimited or unreadable.
    static var processes: UInt64? { soft(__rlimit_resource_t(__RLIMIT_NPROC.rawValue)) }

    private static func soft(_ resource: __rlimit_resource_t) -> UInt64? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }
}
