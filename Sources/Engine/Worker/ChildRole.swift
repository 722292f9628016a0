#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What a re-executed Swift child learns from its environment: that it is a worker or extra of
/// the supervisor that is its parent, its slot, the stop signals, the shared value, its sockets.
struct ChildRole {
    var kind: ChildKind
    var index: Int
    var workerCount: Int
    var stopSignals: [Signal]
    var sharedJSON: String?
    var sockets: [String: CInt]
    var notify: NotifyClient?

    /// The role of this process, or nil when it is not a Swift child of a running supervisor
    /// (no `CORRAL_ROLE`, or the named supervisor is not its parent: then it is a supervisor).
    static func detect() throws(SupervisorError) -> ChildRole? {
        guard let roleName = Environment.value(of: ChildEnvironment.role) else { return nil }
        guard let supervisor = Environment.value(of: ChildEnvironment.supervisorPid).flatMap({ pid_t($0) }),
            supervisor == getppid()
        else { return nil }
        guard let kind = ChildKind(rawValue: roleName) else {
            throw .badWorkerEnvironment("\(ChildEnvironment.role)=\(roleName) is neither worker nor extra")
        }
        guard let index = Environment.value(of: ChildEnvironment.processIndex).flatMap({ Int($0) }), index >= 0 else {
            throw .badWorkerEnvironment("\(ChildEnvironment.processIndex) is missing or not a number")
        }
        let workerCount = Environment.value(of: ChildEnvironment.workerCount).flatMap { Int($0) } ?? 1
        let signals = (Environment.value(of: ChildEnvironment.stopSignals) ?? "")
            .split(separator: ",").compactMap { CInt($0) }.map(Signal.init(rawValue:))
        guard !signals.isEmpty else {
            throw .badWorkerEnvironment("\(ChildEnvironment.stopSignals) is missing")
        }
        let role = ChildRole(
            kind: kind, index: index, workerCount: workerCount, stopSignals: signals,
            sharedJSON: Environment.value(of: ChildEnvironment.shared), sockets: Self.inheritedSockets(),
            notify: NotifyClient.fromEnvironment())
        // Grandchildren must not mistake themselves for workers or talk to the supervisor.
        for name in [
            ChildEnvironment.role, ChildEnvironment.supervisorPid, ChildEnvironment.shared,
            ChildEnvironment.stopSignals, ChildEnvironment.notifySocket, ChildEnvironment.listenFds,
            ChildEnvironment.listenFdNames, ChildEnvironment.listenPid,
        ] {
            Environment.remove(name)
        }
        return role
    }

    /// The sockets passed in systemd's convention, if `LISTEN_PID` names this process; each is
    /// made close-on-exec so the worker's own children do not inherit it.
    private static func inheritedSockets() -> [String: CInt] {
        guard let count = Environment.value(of: ChildEnvironment.listenFds).flatMap({ Int($0) }), count > 0,
            Environment.value(of: ChildEnvironment.listenPid).flatMap({ pid_t($0) }) == getpid()
        else { return [:] }
        let names = (Environment.value(of: ChildEnvironment.listenFdNames) ?? "")
            .split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var sockets: [String: CInt] = [:]
        for offset in 0..<count {
            let fd = CInt(3 + offset)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            sockets[offset < names.count && !names[offset].isEmpty ? names[offset] : "unknown\(offset)"] = fd
        }
        return sockets
    }
}
