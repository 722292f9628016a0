import CorralEngine
import Glibc
import SystemPackage

/// One log file, rotated by size at a line boundary: `web.log` becomes `web.log.1` (older ones
/// shift, the oldest beyond the backups kept is removed), each step an atomic rename. A file
/// renamed or removed by someone else (logrotate without `copytruncate`) is reopened.
final class RotatingFile {
    let path: String
    private let maxSize: Int
    private let backups: Int
    private var descriptor: FileDescriptor?
    private var identity: FileSystem.Identity?
    private var size = 0

    /// The file at `path`, rotated once it would grow past `maxSize` bytes, `backups` kept.
    init(path: String, maxSize: Int, backups: Int) {
        self.path = path
        self.maxSize = maxSize
        self.backups = backups
    }

    deinit { close() }

    /// Appends `bytes` (whole lines), rotating at the line boundary where the file would grow
    /// past its limit (a line longer than the limit gets a file of its own). Throws when the file
    /// cannot be opened or written.
    func write(_ bytes: [UInt8]) throws(SystemCallError) {
        if descriptor == nil { try open() }
        var rest = bytes[...]
        while !rest.isEmpty {
            let room = maxSize - size
            if rest.count <= room {
                try append(rest)
                return
            }
            // The lines that fit, up to the last newline within the room.
            if room > 0, let last = rest.prefix(room).lastIndex(of: UInt8(ascii: "\n")) {
                try append(rest[...last])
                rest = rest[(last + 1)...]
            } else if size == 0 {
                // A line longer than the limit: alone in its file.
                let end = rest.firstIndex(of: UInt8(ascii: "\n")) ?? (rest.endIndex - 1)
                try append(rest[...end])
                rest = rest[(end + 1)...]
            }
            if !rest.isEmpty { try rotate() }
        }
    }

    private func append(_ bytes: ArraySlice<UInt8>) throws(SystemCallError) {
        guard let descriptor else { return }
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            do {
                offset += try bytes[offset...].withUnsafeBytes { try descriptor.write($0, retryOnInterrupt: true) }
            } catch {
                throw SystemCallError("write", errno: (error as? Errno) ?? .ioError, context: path)
            }
        }
        size += bytes.count
    }

    /// Reopens the file when its path no longer names it (it was renamed or removed).
    func reopenIfMoved() throws(SystemCallError) {
        guard descriptor != nil else { return }
        if try FileSystem.identity(path) != identity {
            close()
            try open()
        }
    }

    /// Closes the file (it is opened again by the next write).
    func close() {
        try? descriptor?.close()
        descriptor = nil
    }

    private func open() throws(SystemCallError) {
        do {
            let opened = try FileDescriptor.open(
                path, .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead],
                retryOnInterrupt: true)
            descriptor = opened
            let (identity, size) = try FileSystem.identity(of: opened)
            self.identity = identity
            self.size = size
        } catch let error as SystemCallError {
            throw error
        } catch {
            throw SystemCallError("open", errno: (error as? Errno) ?? .ioError, context: path)
        }
    }

    /// `path.N-1` → `path.N` … `path` → `path.1`, then a new `path`.
    private func rotate() throws(SystemCallError) {
        close()
        if backups == 0 {
            FileSystem.remove(path)
        } else {
            for index in stride(from: backups - 1, through: 1, by: -1) {
                try FileSystem.rename("\(path).\(index)", to: "\(path).\(index + 1)")
            }
            try FileSystem.rename(path, to: "\(path).1")
        }
        try open()
    }
}
