import SystemPackage

/// A child that could not be started: which program, at which step, and the `errno`.
public struct SpawnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The step of the child's start-up that failed.
    public enum Stage: String, Sendable {
        /// Looking the program up in `PATH`.
        case lookup = "looking it up in PATH"
        /// Creating the process or its pipes.
        case fork = "creating the process"
        /// `setpgid`.
        case processGroup = "giving it its own process group"
        /// `prctl(PR_SET_PDEATHSIG)`.
        case parentDeathSignal = "setting its parent-death signal"
        /// The supervisor died while the child started.
        case parentGone = "checking its parent"
        /// Placing descriptors 0, 1, 2 and the inherited sockets.
        case descriptors = "setting up its descriptors"
        /// `sigprocmask`.
        case signalMask = "setting its signal mask"
        /// `chdir` to its working directory.
        case workingDirectory = "entering its working directory"
        /// `execve`.
        case exec = "executing it"

        /// The call this step makes, e.g. `execve`.
        public var operation: String {
            switch self {
            case .lookup: return "PATH lookup"
            case .fork: return "clone"
            case .processGroup: return "setpgid"
            case .parentDeathSignal: return "prctl(PR_SET_PDEATHSIG)"
            case .parentGone: return "getppid"
            case .descriptors: return "dup2"
            case .signalMask: return "sigprocmask"
            case .workingDirectory: return "chdir"
            case .exec: return "execve"
            }
        }
    }

    /// The program (as given, and resolved if it was found).
    public var executable: String
    /// Where it failed.
    public var stage: Stage
    /// The error number (`ENOENT` for a program not found in `PATH`).
    public var errno: Errno
    /// The slot that was being started.
    public var slot: Int

    /// Creates a spawn error.
    package init(executable: String, stage: Stage, errno: Errno, slot: Int) {
        self.executable = executable
        self.stage = stage
        self.errno = errno
        self.slot = slot
    }

    /// A one-line description for logs and reports.
    public var description: String {
        if stage == .lookup {
            return "cannot start \(executable) for slot \(slot): command not found in PATH"
        }
        let base =
            "cannot start \(executable) for slot \(slot): \(errno) (errno \(errno.rawValue)) while \(stage.rawValue)"
        return limitHint.map { "\(base); \($0)" } ?? base
    }

    /// For the errors a resource limit causes: which limit, its value, and how to raise it.
    var limitHint: String? {
        switch errno {
        case .tooManyOpenFiles:
            let limit = ResourceLimits.openFiles.map { " (\($0) here)" } ?? ""
            return "the open-file limit RLIMIT_NOFILE\(limit) is reached: each process takes 3 descriptors in the "
                + "supervisor; raise it (ulimit -n) or start fewer workers"
        case .resourceTemporarilyUnavailable where stage == .fork:
            let limit = ResourceLimits.processes.map { " (\($0) here)" } ?? ""
            return "the process limit RLIMIT_NPROC\(limit) is reached; raise it (ulimit -u) or start fewer workers"
        default:
            return nil
        }
    }
}
