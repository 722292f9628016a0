import Glibc

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
    /// Makes its inherited sockets close-on-exec and removes the supervisor's variables from
    /// the environment.
    static func detect() throws(SupervisorError) -> ChildRole? {
        guard let role = try parse(Environment.value(of:), process: getpid(), parent: getppid()) else { return nil }
        // The worker's own children must not inherit the listening sockets.
        for descriptor in role.sockets.values { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
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

    /// The role the variables `value` describe for the process `process` whose parent is
    /// `parent`, or nil when they describe none (see ``detect()``).
    static func parse(
        _ value: (String) -> String?, process: pid_t, parent: pid_t
    ) throws(SupervisorError) -> ChildRole? {
        guard let roleName = value(ChildEnvironment.role) else { return nil }
        guard let supervisor = value(ChildEnvironment.supervisorPid).flatMap({ pid_t($0) }), supervisor == parent
        else { return nil }
        guard let kind = ChildKind(rawValue: roleName) else {
            throw .badWorkerEnvironment("\(ChildEnvironment.role)=\(roleName) is neither worker nor extra")
        }
        guard let index = value(ChildEnvironment.processIndex).flatMap({ Int($0) }), index >= 0 else {
            throw .badWorkerEnvironment("\(ChildEnvironment.processIndex) is missing or not a number")
        }
        let workerCount = value(ChildEnvironment.workerCount).flatMap { Int($0) } ?? 1
        let signals = (value(ChildEnvironment.stopSignals) ?? "")
            .split(separator: ",").compactMap { CInt($0) }.map(Signal.init(rawValue:))
        guard !signals.isEmpty else {
            throw .badWorkerEnvironment("\(ChildEnvironment.stopSignals) is missing")
        }
        let notifyAddress = value(ChildEnvironment.notifySocket) ?? ""
        return ChildRole(
            kind: kind, index: index, workerCount: workerCount, stopSignals: signals,
            sharedJSON: value(ChildEnvironment.shared), sockets: inheritedSockets(value, process: process),
            notify: notifyAddress.isEmpty ? nil : NotifyClient(address: notifyAddress))
    }

    /// The sockets passed in systemd's convention (descriptors 3, 4, … named by
    /// `LISTEN_FDNAMES`), if `LISTEN_PID` names `process`.
    private static func inheritedSockets(_ value: (String) -> String?, process: pid_t) -> [String: CInt] {
        guard let count = value(ChildEnvironment.listenFds).flatMap({ Int($0) }), count > 0,
            value(ChildEnvironment.listenPid).flatMap({ pid_t($0) }) == process
        else { return [:] }
        let names = (value(ChildEnvironment.listenFdNames) ?? "")
            .split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var sockets: [String: CInt] = [:]
        for offset in 0..<count {
            let name = offset < names.count && !names[offset].isEmpty ? names[offset] : "unknown\(offset)"
            sockets[name] = CInt(3 + offset)
        }
        return sockets
    }
}
