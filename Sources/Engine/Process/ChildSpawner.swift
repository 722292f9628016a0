import CProcessShims
import Glibc
import SystemPackage

/// One child to start: everything decided by the parent before the (vfork) child runs.
struct SpawnRequest {
    /// The file to execute (already resolved; no `PATH` search happens in the child).
    var executable: String
    /// `argv`, including `argv[0]`.
    var arguments: [String]
    /// `NAME=value` entries.
    var environment: [String]
    /// Descriptor that becomes the child's 0.
    var standardInput: CInt
    /// Descriptor that becomes the child's 1.
    var standardOutput: CInt
    /// Descriptor that becomes the child's 2.
    var standardError: CInt
    /// Descriptors that become 3, 4, … in order (systemd's `LISTEN_FDS`).
    var inherited: [CInt]
    /// Whether to write the child's own pid into `LISTEN_PID=` (only with inherited sockets).
    var setsListenPid: Bool
    /// Signals left blocked when the program starts (a Swift worker unblocks them itself).
    var blockedSignals: [Signal]
    /// The slot, for error messages.
    var slot: Int
    /// The watchdog's pipe: the child registers its process group there before exec.
    var watchdog: CInt? = nil
    /// The directory it starts in (nil: the supervisor's).
    var workingDirectory: String? = nil
}

/// Starts children by vfork + exec in C (no Swift runs in the child): own process group,
/// default signal dispositions, only the intended descriptors, a parent-death `SIGKILL`.
enum ChildSpawner {
    /// A started child.
    struct Spawned {
        /// Its pid.
        var pid: pid_t
        /// Its pidfd, made with it (nil on kernels without `CLONE_PIDFD`: open one from the pid).
        var pidfd: CInt?
    }

    /// Spawns `request` from this thread or from `spawner`'s small descriptor table. On failure
    /// nothing is left behind.
    static func spawn(_ request: SpawnRequest, via spawner: Spawner? = nil) throws(SpawnError) -> Spawned {
        let arguments = SpawnArguments(request)
        var pid: pid_t = 0
        var pidfd: CInt = -1
        var stage: CInt = 0
        // The arguments live until the spawn answered: the C side reads them until the child execs.
        let (result, error) = withExtendedLifetime(arguments) {
            let result =
                if let handle = spawner?.handle {
                    corral_spawner_spawn(handle, arguments.request, &pid, &pidfd, &stage)
                } else {
                    corral_spawn(arguments.request, &pid, &pidfd, &stage)
                }
            return (result, Glibc.errno)
        }
        return try outcome(result, errno: error, pid: pid, pidfd: pidfd, stage: stage, of: request)
    }

    /// A spawn passed to the spawner thread and not collected yet: its arguments stay allocated
    /// until then.
    final class Pending {
        fileprivate let request: SpawnRequest
        fileprivate let arguments: SpawnArguments

        fileprivate init(_ request: SpawnRequest) {
            self.request = request
            arguments = SpawnArguments(request)
        }
    }

    /// Passes `request` to `spawner`, which spawns it while this thread goes on; its outcome is
    /// ``collect(_:via:)``'s, called once for it, in the order of the submissions.
    static func submit(_ request: SpawnRequest, via spawner: Spawner) throws(SpawnError) -> Pending {
        let pending = Pending(request)
        guard corral_spawner_submit(spawner.handle, pending.arguments.request) == 0 else {
            throw SpawnError(
                executable: request.executable, stage: .fork, errno: Errno(rawValue: Glibc.errno), slot: request.slot)
        }
        return pending
    }

    /// The outcome of `pending`, the oldest submission to `spawner` not collected yet.
    static func collect(_ pending: Pending, via spawner: Spawner) throws(SpawnError) -> Spawned {
        var pid: pid_t = 0
        var pidfd: CInt = -1
        var stage: CInt = 0
        let (result, error) = withExtendedLifetime(pending) {
            (corral_spawner_collect(spawner.handle, &pid, &pidfd, &stage), Glibc.errno)
        }
        return try outcome(result, errno: error, pid: pid, pidfd: pidfd, stage: stage, of: pending.request)
    }

    private static func outcome(
        _ result: CInt, errno: CInt, pid: pid_t, pidfd: CInt, stage: CInt, of request: SpawnRequest
    ) throws(SpawnError) -> Spawned {
        guard result == 0 else {
            throw SpawnError(
                executable: request.executable, stage: Self.stage(stage), errno: Errno(rawValue: errno),
                slot: request.slot)
        }
        return Spawned(pid: pid, pidfd: pidfd >= 0 ? pidfd : nil)
    }

    private static func stage(_ raw: CInt) -> SpawnError.Stage {
        switch UInt32(raw) {
        case CORRAL_SPAWN_STAGE_SETPGID.rawValue: return .processGroup
        case CORRAL_SPAWN_STAGE_PDEATHSIG.rawValue: return .parentDeathSignal
        case CORRAL_SPAWN_STAGE_PARENT_GONE.rawValue: return .parentGone
        case CORRAL_SPAWN_STAGE_DESCRIPTORS.rawValue: return .descriptors
        case CORRAL_SPAWN_STAGE_SIGNAL_MASK.rawValue: return .signalMask
        case CORRAL_SPAWN_STAGE_CHDIR.rawValue: return .workingDirectory
        case CORRAL_SPAWN_STAGE_EXEC.rawValue: return .exec
        default: return .fork
        }
    }
}

/// A ``SpawnRequest`` as the C spawn routine reads it: the request structure and the strings
/// and arrays it points to, allocated until this is released.
private final class SpawnArguments {
    /// The request, valid while this lives.
    let request: UnsafeMutablePointer<corral_spawn_request>
    private var owned: [UnsafeMutableRawPointer] = []

    init(_ spawn: SpawnRequest) {
        request = .allocate(capacity: 1)
        request.initialize(to: corral_spawn_request())
        var environment = spawn.environment.filter { !$0.hasPrefix("LISTEN_PID=") }
        if spawn.setsListenPid { environment.append("LISTEN_PID=" + String(repeating: "0", count: 20)) }
        let envp = array(environment)
        if spawn.setsListenPid, let last = envp[environment.count - 1] {
            request.pointee.listen_pid_slot = last + "LISTEN_PID=".utf8.count
        }
        request.pointee.path = UnsafePointer(string(spawn.executable))
        request.pointee.argv = UnsafePointer(array(spawn.arguments))
        request.pointee.envp = UnsafePointer(envp)
        request.pointee.stdin_fd = spawn.standardInput
        request.pointee.stdout_fd = spawn.standardOutput
        request.pointee.stderr_fd = spawn.standardError
        let inherited = UnsafeMutablePointer<CInt>.allocate(capacity: max(spawn.inherited.count, 1))
        inherited.initialize(from: spawn.inherited, count: spawn.inherited.count)
        owned.append(UnsafeMutableRawPointer(inherited))
        request.pointee.inherited_fds = UnsafePointer(inherited)
        request.pointee.inherited_count = CInt(spawn.inherited.count)
        request.pointee.child_mask = Syscalls.signalSet(spawn.blockedSignals)
        request.pointee.parent_death_signal = SIGKILL
        request.pointee.expected_parent = getpid()
        request.pointee.watchdog_fd = spawn.watchdog ?? -1
        request.pointee.open_files_soft = UInt(ResourceLimits.childOpenFiles ?? 0)
        request.pointee.working_directory = spawn.workingDirectory.map { UnsafePointer(string($0)) }
    }

    deinit {
        for pointer in owned { pointer.deallocate() }
        request.deallocate()
    }

    /// A NUL-terminated copy of `value`.
    private func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        let count = value.utf8.count
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: count + 1)
        value.withCString { copy.initialize(from: $0, count: count + 1) }
        owned.append(UnsafeMutableRawPointer(copy))
        return copy
    }

    /// A NULL-terminated array of copies of `values`.
    private func array(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: values.count + 1)
        for (index, value) in values.enumerated() { (pointers + index).initialize(to: string(value)) }
        (pointers + values.count).initialize(to: nil)
        owned.append(UnsafeMutableRawPointer(pointers))
        return pointers
    }
}
