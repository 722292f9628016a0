import Glibc

/// Finds the file `execve` should run for a command's `argv[0]`, the way a shell does.
enum ExecutableLookup {
    /// `name` itself when it contains a `/`; otherwise the first executable regular file named
    /// `name` in `PATH` (default `/usr/local/bin:/usr/bin:/bin`), or nil.
    static func resolve(_ name: String, path: String? = Environment.value(of: "PATH")) -> String? {
        if name.contains("/") { return name }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(
            separator: ":", omittingEmptySubsequences: false)
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var info = stat()
            guard stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
