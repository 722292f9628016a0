import CorralEngine
import Glibc

/// Where control sockets live: `$XDG_RUNTIME_DIR/corral/<pid>.sock`, or
/// `/tmp/corral-<uid>/<pid>.sock` where `XDG_RUNTIME_DIR` is unset or does not exist. The
/// directory is made 0700 and used only while it is this user's and closed to everyone else.
package enum ControlDirectory {
    /// The directory a corral of this user puts its socket in.
    package static var preferred: String {
        if let runtime = runtimeDirectory { return runtime + "/corral" }
        return fallback
    }

    /// Every directory a running corral of this user may have its socket in, preferred first.
    package static var all: [String] {
        var directories: [String] = []
        if let runtime = runtimeDirectory { directories.append(runtime + "/corral") }
        directories.append(fallback)
        return directories
    }

    /// The default socket path of the corral with `pid`.
    package static func defaultPath(pid: pid_t) -> String { "\(preferred)/\(pid).sock" }

    /// Makes the preferred directory (0700) if it is not there, and checks it.
    package static func prepare() throws(ControlSetupError) -> String {
        let directory = preferred
        do {
            _ = try FileSystem.makeDirectory(directory, mode: 0o700)
        } catch {
            throw ControlSetupError("cannot make the control socket directory \(directory): \(error)")
        }
        if let problem = problem(with: directory) { throw ControlSetupError(problem) }
        return directory
    }

    /// Why `directory` must not hold control sockets (not a directory, another owner, open to
    /// others), or nil when it is safe.
    package static func problem(with directory: String) -> String? {
        let status: FileSystem.Status?
        do {
            status = try FileSystem.status(directory)
        } catch {
            return "cannot check the control socket directory \(directory): \(error)"
        }
        guard let status else { return "the control socket directory \(directory) does not exist" }
        let fix = "; remove it, or give --control PATH or --no-control"
        guard status.isDirectory else {
            return "\(directory) is not a directory (a link or a file), so it is not used for control sockets\(fix)"
        }
        guard status.owner == geteuid() else {
            return "the control socket directory \(directory) belongs to uid \(status.owner), not to you "
                + "(uid \(geteuid()))\(fix)"
        }
        guard status.permissions & 0o077 == 0 else {
            let mode = String(status.permissions, radix: 8)
            return "the control socket directory \(directory) has mode \(mode): others may use it; "
                + "chmod 700 \(directory), or give --control PATH or --no-control"
        }
        return nil
    }

    /// `$XDG_RUNTIME_DIR` when it is set, absolute, and a directory.
    private static var runtimeDirectory: String? {
        guard let value = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), value.hasPrefix("/") else {
            return nil
        }
        guard (try? FileSystem.status(value, followingLinks: true))??.isDirectory == true else { return nil }
        return value.count > 1 && value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    private static var fallback: String { "/tmp/corral-\(geteuid())" }
}

/// The control socket cannot be set up; the text says what to do.
package struct ControlSetupError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
