import Foundation

/// Running `corral` as another user (`nobody`), for the tests about permissions and per-user
/// limits. Only root can switch users, so these paths run only when the tests run as root.
///
/// `nobody` may not enter the checkout (a clone under a 0700 home or temporary directory), so it
/// runs a world-readable copy of the binary, made once per test run in a folder of its own and
/// removed when the run ends.
enum OtherUser {
    /// The user's id and group (`nobody`, `nogroup`).
    static let uid: uid_t = 65534

    /// Whether the tests can run a program as `nobody`: they run as root and `setpriv` exists.
    static let isAvailable: Bool =
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    /// The copy of `corral` that `nobody` can run (mode 755 in a folder of mode 755).
    static let corral: String = {
        let folder = "/tmp/corral-tests-\(getpid())"
        let copy = folder + "/corral"
        let manager = FileManager.default
        try? manager.createDirectory(
            atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        chmod(folder, 0o755)
        if !manager.fileExists(atPath: copy) { try? manager.copyItem(atPath: corralExecutable, toPath: copy) }
        chmod(copy, 0o755)
        atexit { try? FileManager.default.removeItem(atPath: "/tmp/corral-tests-\(getpid())") }
        return copy
    }()

    /// The words that run what follows them as `nobody` with no supplementary groups.
    static let prefix = ["/usr/bin/setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]

    /// The command line running the copy of `corral` with `arguments` as `nobody`.
    static func corralCommand(_ arguments: [String]) -> [String] { prefix + [corral] + arguments }
}
