import Glibc
import SystemPackage

/// The file-system calls corral's control socket and log files need: what a path is and who
/// owns it, a private directory, removing a socket file, renaming a log file, telling whether a
/// path still names an open file.
package enum FileSystem {
    /// What `lstat` says of a path (a symbolic link is not followed).
    package struct Status: Sendable, Equatable {
        /// The file type bits (`S_IFDIR`, `S_IFSOCK`, `S_IFLNK`, …).
        package var type: mode_t
        /// The permission bits.
        package var permissions: mode_t
        /// The owner.
        package var owner: uid_t

        /// A directory (not a link to one).
        package var isDirectory: Bool { type == S_IFDIR }
        /// A socket.
        package var isSocket: Bool { type == S_IFSOCK }
    }

    /// lstat(2), or stat(2) `followingLinks`: nil when nothing is at `path`.
    package static func status(_ path: String, followingLinks: Bool = false) throws(SystemCallError) -> Status? {
        var info = stat()
        while (followingLinks ? stat(path, &info) : lstat(path, &info)) != 0 {
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == ENOENT || error == ENOTDIR { return nil }
            throw SystemCallError(followingLinks ? "stat" : "lstat", errno: Errno(rawValue: error), context: path)
        }
        return Status(type: info.st_mode & S_IFMT, permissions: info.st_mode & 0o7777, owner: info.st_uid)
    }

    /// mkdir(2) with `mode` (less the umask); false when something is at `path` already.
    package static func makeDirectory(_ path: String, mode: mode_t) throws(SystemCallError) -> Bool {
        while mkdir(path, mode) != 0 {
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EEXIST { return false }
            throw SystemCallError("mkdir", errno: Errno(rawValue: error), context: path)
        }
        return true
    }

    /// Names in the directory at `path` (without `.` and `..`); empty when it cannot be read.
    package static func names(in path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// chmod(2), ignoring failure (the check that matters is made elsewhere).
    package static func setPermissions(_ path: String, _ mode: mode_t) { _ = chmod(path, mode) }

    /// unlink(2), ignoring failure (the file may be gone already).
    package static func remove(_ path: String) { Syscalls.unlink(path) }

    /// Removes an empty directory; whether it was removed.
    @discardableResult
    package static func removeDirectory(_ path: String) -> Bool { Syscalls.removeDirectory(path) }

    /// A file's identity: its device and inode.
    package struct Identity: Sendable, Equatable {
        var device: UInt
        var inode: UInt

        /// The identity of device `device`, inode `inode` (as `JOURNAL_STREAM` gives them).
        package init(device: UInt, inode: UInt) {
            self.device = device
            self.inode = inode
        }
    }

    /// The identity of what `path` names (following links); nil when nothing is there.
    package static func identity(_ path: String) throws(SystemCallError) -> Identity? {
        var info = stat()
        while stat(path, &info) != 0 {
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == ENOENT || error == ENOTDIR { return nil }
            throw SystemCallError("stat", errno: Errno(rawValue: error), context: path)
        }
        return Identity(device: UInt(info.st_dev), inode: UInt(info.st_ino))
    }

    /// The identity of the open file `fd`, and its size.
    package static func identity(of fd: FileDescriptor) throws(SystemCallError) -> (Identity, size: Int) {
        var info = stat()
        while fstat(fd.rawValue, &info) != 0 {
            let error = Glibc.errno
            if error == EINTR { continue }
            throw SystemCallError("fstat", errno: Errno(rawValue: error), context: "an open file")
        }
        return (Identity(device: UInt(info.st_dev), inode: UInt(info.st_ino)), Int(info.st_size))
    }

    /// rename(2): `from` takes the place of `to`, atomically; false when `from` does not exist.
    @discardableResult
    package static func rename(_ from: String, to: String) throws(SystemCallError) -> Bool {
        while Glibc.rename(from, to) != 0 {
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == ENOENT { return false }
            throw SystemCallError("rename", errno: Errno(rawValue: error), context: "\(from) to \(to)")
        }
        return true
    }
}
