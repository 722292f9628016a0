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
/// and arrays it points to, allocated until this is released. Every string's bytes go into one
/// block and both pointer arrays into another (a spawn's environment is dozens of strings: one
/// allocation each cost more than the rest of the request together).
private final class SpawnArguments {
    /// The request, valid while this lives.
    let request: UnsafeMutablePointer<corral_spawn_request>
    /// The strings, each NUL-terminated, one after another.
    private let bytes: UnsafeMutablePointer<CChar>
    /// `argv` then `envp`, each NULL-terminated.
    private let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let inherited: UnsafeMutablePointer<CInt>

    /// The entry the child writes its pid into (`LISTEN_PID=` and room for 20 digits).
    private static let listenPidEntry = "LISTEN_PID=" + String(repeating: "0", count: 20)

    init(_ spawn: SpawnRequest) {
        request = .allocate(capacity: 1)
        request.initialize(to: corral_spawn_request())
        // The environment's own LISTEN_PID goes (a child's is its own pid, or none).
        var environmentCount = spawn.setsListenPid ? 1 : 0
        var size = spawn.executable.utf8.count + 1 + (spawn.workingDirectory.map { $0.utf8.count + 1 } ?? 0)
        size += spawn.setsListenPid ? Self.listenPidEntry.utf8.count + 1 : 0
        for value in spawn.arguments { size += value.utf8.count + 1 }
        for value in spawn.environment where !Self.isListenPid(value) {
            size += value.utf8.count + 1
            environmentCount += 1
        }
        bytes = .allocate(capacity: size)
        pointers = .allocate(capacity: spawn.arguments.count + environmentCount + 2)
        inherited = .allocate(capacity: max(spawn.inherited.count, 1))

        var next = bytes
        request.pointee.path = UnsafePointer(Self.copy(spawn.executable, to: &next))
        var pointer = pointers
        request.pointee.argv = UnsafePointer(pointer)
        for value in spawn.arguments {
            pointer.initialize(to: Self.copy(value, to: &next))
            pointer += 1
        }
        pointer.initialize(to: nil)
        pointer += 1
        request.pointee.envp = UnsafePointer(pointer)
        for value in spawn.environment where !Self.isListenPid(value) {
            pointer.initialize(to: Self.copy(value, to: &next))
            pointer += 1
        }
        if spawn.setsListenPid {
            let entry = Self.copy(Self.listenPidEntry, to: &next)
            pointer.initialize(to: entry)
            pointer += 1
            request.pointee.listen_pid_slot = entry + "LISTEN_PID=".utf8.count
        }
        pointer.initialize(to: nil)
        request.pointee.working_directory = spawn.workingDirectory.map { UnsafePointer(Self.copy($0, to: &next)) }
        request.pointee.stdin_fd = spawn.standardInput
        request.pointee.stdout_fd = spawn.standardOutput
        request.pointee.stderr_fd = spawn.standardError
        inherited.initialize(from: spawn.inherited, count: spawn.inherited.count)
        request.pointee.inherited_fds = UnsafePointer(inherited)
        request.pointee.inherited_count = CInt(spawn.inherited.count)
        request.pointee.child_mask = Syscalls.signalSet(spawn.blockedSignals)
        request.pointee.parent_death_signal = SIGKILL
        request.pointee.expected_parent = getpid()
        request.pointee.watchdog_fd = spawn.watchdog ?? -1
        request.pointee.open_files_soft = UInt(ResourceLimits.childOpenFiles ?? 0)
    }

    /// Copies `value` and a NUL to `next`, which moves past them; where the copy starts.
    private static func copy(
        _ value: String, to next: inout UnsafeMutablePointer<CChar>
    ) -> UnsafeMutablePointer<CChar> {
        let start = next
        let count = value.utf8.count
        let copied: Bool? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            if let source = utf8.baseAddress {
                UnsafeMutableRawPointer(start).copyMemory(from: source, byteCount: count)
            }
            return true
        }
        if copied == nil {
            for (index, byte) in value.utf8.enumerated() { start[index] = CChar(bitPattern: byte) }
        }
        start[count] = 0
        next = start + count + 1
        return start
    }

    deinit {
        inherited.deallocate()
        pointers.deallocate()
        bytes.deallocate()
        request.deallocate()
    }

    /// Whether `entry` is `LISTEN_PID=…` (most entries fail at the first byte).
    private static func isListenPid(_ entry: String) -> Bool {
        entry.utf8.first == UInt8(ascii: "L") && entry.hasPrefix("LISTEN_PID=")
    }
}
