#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads /proc to list processes (for what a subreaper adopted and could not stop).
enum ProcessTable {
    /// The running (not zombie) children of `parent`, with their command names.
    static func children(of parent: pid_t) -> [SupervisorReport.LeftBehind] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [SupervisorReport.LeftBehind] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let stat = read("/proc/\(pid)/stat"),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", pid_t(fields[1]) == parent else { continue }
            found.append(.init(pid: pid, command: String(stat[stat.index(after: open)..<close])))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    private static func read(_ path: String) -> String? {
        guard let fd = try? Syscalls.open(path, flags: O_RDONLY) else { return nil }
        defer { Syscalls.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        guard let count = buffer.withUnsafeMutableBytes({ try? Syscalls.read(fd, into: $0) }) ?? nil else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
