/// The variables the supervisor gives its children, and their names.
enum ChildEnvironment {
    /// `worker` or `extra`: present only for Swift children, which run the engine's worker side.
    static let role = "CORRAL_ROLE"
    /// The slot index, 0-based; extras continue after the workers (aiotools' `process_index`).
    /// In a run of programs, the index in its program.
    static let processIndex = "CORRAL_PROCESS_INDEX"
    /// The number of workers (in a run of programs, of its program).
    static let workerCount = "CORRAL_WORKER_COUNT"
    /// Its program: a program's name, or `worker` / `extra`.
    static let program = "CORRAL_PROGRAM"
    /// Its name: `web.1`, `worker.0`.
    static let processName = "CORRAL_PROCESS_NAME"
    /// The stop signals, as comma-separated numbers.
    static let stopSignals = "CORRAL_STOP_SIGNALS"
    /// The shared value as JSON.
    static let shared = "CORRAL_SHARED"
    /// The supervisor's pid (a Swift child checks it is its parent before taking the worker role).
    static let supervisorPid = "CORRAL_SUPERVISOR_PID"
    /// systemd's readiness socket.
    static let notifySocket = "NOTIFY_SOCKET"
    /// systemd's count of inherited sockets (descriptors 3, 4, …).
    static let listenFds = "LISTEN_FDS"
    /// systemd's colon-separated names of the inherited sockets.
    static let listenFdNames = "LISTEN_FDNAMES"
    /// systemd's pid the inherited sockets are meant for.
    static let listenPid = "LISTEN_PID"

    private static let owned: Set<String> = [
        role, processIndex, workerCount, program, processName, stopSignals, shared, supervisorPid, notifySocket,
        listenFds, listenFdNames, listenPid,
    ]

    /// What every child's environment starts with: the supervisor's own (less the variables
    /// above and those `additions` replace), then the configured additions.
    static func base(inherited: [String], additions: [String: String]) -> [String] {
        var entries = inherited.filter { entry in
            let name = variableName(entry)
            return !owned.contains(name) && additions[name] == nil
        }
        entries += additions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return entries
    }

    /// The name of a `NAME=value` entry (all of it without a `=`), found byte by byte: an
    /// environment has hundreds of bytes per entry, and characters cost more than bytes.
    private static func variableName(_ entry: String) -> String {
        guard let equals = entry.utf8.firstIndex(of: UInt8(ascii: "=")) else { return entry }
        return String(entry[..<equals])
    }

    /// `base` with a program's own variables over it.
    static func over(_ base: [String], _ additions: [String: String]) -> [String] {
        guard !additions.isEmpty else { return base }
        let kept = base.filter { additions[variableName($0)] == nil }
        return kept + additions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// The environment for one child: `base` (see ``base(inherited:additions:)``), then this
    /// slot's variables: its `index` (``processIndex``), `name`, the `workerCount` beside it,
    /// and `port` as `PORT` unless `base` sets one.
    static func build(
        base: [String], index: Int, name: ProcessName, role: ChildKind?, workerCount: Int, port: Int? = nil,
        stopSignals: [Signal], notifyAddress: String, payload: LaunchPayload, supervisorPid: Int32
    ) -> [String] {
        var entries = base
        entries.append("\(processIndex)=\(index)")
        entries.append("\(Self.workerCount)=\(workerCount)")
        entries.append("\(program)=\(name.program)")
        entries.append("\(processName)=\(name)")
        if let port, !base.contains(where: { $0.hasPrefix("PORT=") }) { entries.append("PORT=\(port)") }
        entries.append("\(notifySocket)=\(notifyAddress)")
        if let role {
            entries.append("\(Self.role)=\(role.rawValue)")
            entries.append("\(Self.supervisorPid)=\(supervisorPid)")
            entries.append("\(Self.stopSignals)=\(stopSignals.map { String($0.rawValue) }.joined(separator: ","))")
            if let json = payload.sharedJSON { entries.append("\(shared)=\(json)") }
        }
        if !payload.sockets.isEmpty {
            entries.append("\(listenFds)=\(payload.sockets.count)")
            entries.append("\(listenFdNames)=\(payload.sockets.map(\.name).joined(separator: ":"))")
        }
        return entries
    }
}
