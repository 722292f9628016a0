import CorralEngine
import Glibc

/// The private directories of notify sockets (`corral-notify-*` in `$XDG_RUNTIME_DIR`,
/// `/dev/shm` or `/tmp`) that a corral killed before its watchdog could remove them left behind:
/// this user's, whose socket nothing is bound to any more.
enum StaleNotifyDirectories {
    /// Removes them; returns how many.
    @discardableResult
    static func remove() -> Int {
        var removed = 0
        for base in NotifySocket.directoryBases {
            for name in FileSystem.names(in: base) where name.hasPrefix(NotifySocket.directoryPrefix) {
                let directory = "\(base)/\(name)"
                guard let status = (try? FileSystem.status(directory)) ?? nil, status.isDirectory,
                    status.owner == geteuid(), isStale(directory + "/notify")
                else { continue }
                FileSystem.remove(directory + "/notify")
                if FileSystem.removeDirectory(directory) { removed += 1 }
            }
        }
        return removed
    }

    /// Whether nothing is bound to the socket at `path`, or nothing is there (a directory
    /// whose socket was already removed).
    private static func isStale(_ path: String) -> Bool {
        guard (try? FileSystem.status(path)) ?? nil != nil else { return true }
        return UnixStream.isStale(path)
    }
}
