/// A child's standard output and error pipes: the supervisor reads the read ends (made
/// non-blocking), the child gets the write ends.
struct OutputPipes {
    /// The ends of the standard output pipe.
    var stdout: (read: CInt, write: CInt)
    /// The ends of the standard error pipe.
    var stderr: (read: CInt, write: CInt)

    /// Two new pipes, all four ends close-on-exec; nothing is left open if one fails.
    static func make() throws(SystemCallError) -> OutputPipes {
        var opened: [CInt] = []
        do {
            let stdout = try Syscalls.pipe(nonBlocking: false)
            opened += [stdout.read, stdout.write]
            let stderr = try Syscalls.pipe(nonBlocking: false)
            opened += [stderr.read, stderr.write]
            try Syscalls.setNonBlocking(newPipeEnd: stdout.read)
            try Syscalls.setNonBlocking(newPipeEnd: stderr.read)
            return OutputPipes(stdout: stdout, stderr: stderr)
        } catch {
            for fd in opened { Syscalls.close(fd) }
            throw error
        }
    }

    /// Closes the child's ends (once the child, or a request carrying them, has its copies).
    func closeWriteEnds() {
        Syscalls.close(stdout.write)
        Syscalls.close(stderr.write)
    }

    /// Closes the supervisor's ends.
    func closeReadEnds() {
        Syscalls.close(stdout.read)
        Syscalls.close(stderr.read)
    }
}
