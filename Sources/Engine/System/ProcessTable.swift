import Glibc

/// Reads /proc: what a subreaper adopted and could not stop, and this process's thread count.
enum ProcessTable {
    /// The running (not zombie) children of `parent`, with their command names: from the
    /// kernel's list of each of its threads' children (`/proc/PID/task/TID/children`), else, on
    /// a kernel without those lists, from a scan of every process.
    static func children(of parent: pid_t) -> [(pid: pid_t, command: String)] {
        guard let listed = listedChildren(of: parent) else { return scannedChildren(of: parent) }
        var found: [(pid: pid_t, command: String)] = []
        for pid in Set(listed) {
            guard let (command, fields) = stat(String(pid)), fields.count > 1, fields[0] != "Z",
                pid_t(fields[1]) == parent
            else { continue }
            found.append((pid, command))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// The pids in `parent`'s threads' children lists; nil when the kernel has no such lists.
    private static func listedChildren(of parent: pid_t) -> [pid_t]? {
        guard let directory = opendir("/proc/\(parent)/task") else { return nil }
        defer { closedir(directory) }
        var pids: [pid_t] = []
        var sawList = false
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard pid_t(name) != nil, let list = Syscalls.readWholeFile("/proc/\(parent)/task/\(name)/children")
            else { continue }
            sawList = true
            pids += list.split(separator: UInt8(ascii: " ")).compactMap { pid_t(String(decoding: $0, as: UTF8.self)) }
        }
        return sawList ? pids : nil
    }

    /// The running children of `parent`, from a scan of every process's stat.
    private static func scannedChildren(of parent: pid_t) -> [(pid: pid_t, command: String)] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [(pid: pid_t, command: String)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let (command, fields) = stat(name) else { continue }
            guard fields.count > 1, fields[0] != "Z", pid_t(fields[1]) == parent else { continue }
            found.append((pid, command))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// The process groups that have a running (not zombie) member.
    static func runningGroups() -> Set<pid_t> {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var groups: Set<pid_t> = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard pid_t(name) != nil, let (_, fields) = stat(name) else { continue }
            guard fields.count > 2, fields[0] != "Z", let group = pid_t(fields[2]) else { continue }
            groups.insert(group)
        }
        return groups
    }

    /// The number of threads in this process, or nil if /proc cannot tell.
    static func threadCount() -> Int? {
        guard let (_, fields) = stat("self"), fields.count > 17 else { return nil }
        return Int(fields[17])  // num_threads, field 20 of /proc/PID/stat
    }

    /// /proc/`pid`/stat: the command name, and the fields after it (state first, then ppid, …).
    private static func stat(_ pid: String) -> (command: String, fields: [Substring])? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        guard let count = Syscalls.readSmallFile("/proc/\(pid)/stat", into: &buffer) else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let command = String(text[text.index(after: open)..<close])
        return (command, text[text.index(after: close)...].split(separator: " "))
    }
}
