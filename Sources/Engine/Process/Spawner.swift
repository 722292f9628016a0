import CProcessShims
import Glibc
import SystemPackage

/// A thread with a small descriptor table of its own, from which commands are spawned: a child
/// starts with a copy of its parent's table and closes what it must not keep, so spawned from
/// the supervisor's table (two pipes and a pidfd per running child) each spawn would cost in
/// proportion to the children already running. Lives for one run; its children get their
/// parent-death signal when it ends, so it ends after them.
final class Spawner {
    let handle: OpaquePointer
    private let keepCount: Int
    private var stopped = false
    private var ready = false

    /// Starts the thread, which makes its table while this thread goes on (``awaitTable()``
    /// waits for it); `keep` are the descriptors children may be given besides their output
    /// pipes (/dev/null, the watchdog's pipe, inherited sockets), open for the whole run.
    init(keeping keep: [CInt]) throws(SystemCallError) {
        guard let handle = keep.withUnsafeBufferPointer({ corral_spawner_start($0.baseAddress, CInt($0.count)) })
        else {
            throw SystemCallError("spawner thread", errno: Errno(rawValue: errno), context: "\(keep.count) descriptors")
        }
        self.handle = handle
        keepCount = keep.count
    }

    /// Waits until the thread has its table (at once after the first time); throws when it
    /// could not make one, and the thread has ended.
    func awaitTable() throws(SystemCallError) {
        guard !ready else { return }
        guard corral_spawner_await(handle) == 0 else { throw tableError() }
        ready = true
    }

    /// Whether the thread has its table now, without waiting for it; throws when it could not
    /// make one, and the thread has ended.
    func hasTable() throws(SystemCallError) -> Bool {
        guard !ready else { return true }
        switch corral_spawner_is_ready(handle) {
        case 1: return false
        case 0:
            ready = true
            return true
        default: throw tableError()
        }
    }

    /// Why the thread has no table, from `errno`.
    private func tableError() -> SystemCallError {
        SystemCallError("spawner thread", errno: Errno(rawValue: errno), context: "\(keepCount) descriptors")
    }

    /// Ends the thread (once every child it spawned has ended).
    func stop() {
        guard !stopped else { return }
        stopped = true
        corral_spawner_stop(handle)
    }

    deinit { stop() }
}
