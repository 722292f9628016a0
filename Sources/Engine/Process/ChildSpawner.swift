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
        var storage = CStringStorage()
        let argv = storage.array(request.arguments)
        var environment = request.environment.filter { !$0.hasPrefix("LISTEN_PID=") }
        var listenPidSlot: UnsafeMutablePointer<CChar>?
        if request.setsListenPid {
            environment.append("LISTEN_PID=" + String(repeating: "0", count: 20))
        }
        let envp = storage.array(environment)
        if request.setsListenPid, let last = envp[environment.count - 1] {
            listenPidSlot = last + "LISTEN_PID=".utf8.count
        }
        let path = storage.string(request.executable)
        let directory = request.workingDirectory.map { storage.string($0) }
        var pid: pid_t = 0
        var pidfd: CInt = -1
        var stage: CInt = 0
        let result: CInt = request.inherited.withUnsafeBufferPointer { inherited in
            argv.withUnsafeBufferPointer { argvPointer in
                envp.withUnsafeBufferPointer { envpPointer in
                    var spawnRequest = corral_spawn_request()
                    spawnRequest.path = UnsafePointer(path)
                    spawnRequest.argv = UnsafePointer(argvPointer.baseAddress)
                    spawnRequest.envp = UnsafePointer(envpPointer.baseAddress)
                    spawnRequest.stdin_fd = request.standardInput
                    spawnRequest.stdout_fd = request.standardOutput
                    spawnRequest.stderr_fd = request.standardError
                    spawnRequest.inherited_fds = inherited.baseAddress
                    spawnRequest.inherited_count = CInt(inherited.count)
                    spawnRequest.listen_pid_slot = listenPidSlot
                    spawnRequest.child_mask = Syscalls.signalSet(request.blockedSignals)
                    spawnRequest.parent_death_signal = SIGKILL
                    spawnRequest.expected_parent = getpid()
                    spawnRequest.watchdog_fd = request.watchdog ?? -1
                    spawnRequest.open_files_soft = UInt(ResourceLimits.childOpenFiles ?? 0)
                    spawnRequest.working_directory = directory.map { UnsafePointer($0) }
                    if let handle = spawner?.handle {
                        return corral_spawner_spawn(handle, &spawnRequest, &pid, &pidfd, &stage)
                    }
                    return corral_spawn(&spawnRequest, &pid, &pidfd, &stage)
                }
            }
        }
        let error = Glibc.errno
        storage.free()
        guard result == 0 else {
            throw SpawnError(
                executable: request.executable, stage: Self.stage(stage), errno: Errno(rawValue: error),
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

/// C strings owned until ``free()``: the argv/envp arrays handed to the C spawn routine.
private struct CStringStorage {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    mutating func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        let count = value.utf8.count
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: count + 1)
        value.withCString { copy.initialize(from: $0, count: count + 1) }
        owned.append(copy)
        return copy
    }

    /// A NULL-terminated array of copies of `values`.
    mutating func array(_ values: [String]) -> [UnsafeMutablePointer<CChar>?] {
        values.map { string($0) } + [nil]
    }

    mutating func free() {
        for pointer in owned { pointer.deallocate() }
        owned.removeAll()
    }
}
