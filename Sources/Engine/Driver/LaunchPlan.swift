import Glibc

/// What each slot runs and how a spawn request for it is built: the programs resolved once, up
/// front (a command that is not found fails the run before anything is spawned), and the
/// environment, descriptors and signal mask every child gets.
struct LaunchPlan {
    /// How to start one slot: what it executes.
    struct Executable {
        var executable: String
        var arguments: [String]
        /// Worker or extra for Swift children (re-executed binary); nil for commands.
        var role: ChildKind?
    }

    /// Every slot's program, by slot, as configured (slots added by scaling run
    /// ``workerProgram``).
    let programs: [Executable]
    /// What a worker slot runs.
    let workerProgram: Executable
    /// Where the running binary was on disk at the start: a reload starts Swift children from
    /// there, so a binary rebuilt in place takes effect.
    private let executableOnDisk: String?
    private let configuration: SupervisorConfiguration
    private let payload: LaunchPayload
    /// The start of every child's environment (``ChildEnvironment/base(inherited:additions:)``).
    private let baseEnvironment: [String]
    /// In a run of programs, each program's start of the environment (its variables over the base).
    private let programEnvironments: [String: [String]]

    /// Resolves every slot's program; throws for a command not found.
    init(configuration: SupervisorConfiguration, payload: LaunchPayload) throws(SupervisorError) {
        self.configuration = configuration
        self.payload = payload
        let base = ChildEnvironment.base(inherited: Environment.entries(), additions: configuration.environment)
        baseEnvironment = base
        programEnvironments = Dictionary(
            configuration.programs.map { ($0.name, ChildEnvironment.over(base, $0.environment)) },
            uniquingKeysWith: { first, _ in first })
        programs = try Self.resolve(configuration)
        workerProgram = programs[0]
        executableOnDisk = Syscalls.readLink("/proc/self/exe")
    }

    /// The program of `slot`, a configured slot or one added by scaling.
    func program(_ slot: Int) -> Executable { slot < programs.count ? programs[slot] : workerProgram }

    /// What exec needs to start `slot` writing to `output`, with the supervisor's shared
    /// descriptors: stdin, the watchdog's pipe, the notify socket's address. A worker is told
    /// `workerCount` (the worker slots now); an extra, the configured count its index follows.
    func request(
        _ slot: Int, output: (stdout: CInt, stderr: CInt), standardInput: CInt, watchdog: CInt?, notifyAddress: String,
        workerCount: Int, fromDisk: Bool = false
    ) -> SpawnRequest {
        var program = program(slot)
        if fromDisk, program.role != nil, program.executable == "/proc/self/exe", let onDisk = executableOnDisk {
            program.executable = onDisk
        }
        let isExtra = slot >= configuration.workers && slot < programs.count
        let name = configuration.processName(ofSlot: slot)
        let ofProgram = configuration.program(ofSlot: slot)
        let environment = ChildEnvironment.build(
            base: ofProgram.flatMap { programEnvironments[$0.name] } ?? baseEnvironment,
            index: ofProgram == nil ? slot : name.index, name: name, role: program.role,
            workerCount: ofProgram?.workers ?? (isExtra ? configuration.workers : workerCount),
            port: ofProgram?.firstPort.map { $0 + name.index }, stopSignals: configuration.stopSignals,
            notifyAddress: notifyAddress,
            payload: program.role == nil ? LaunchPayload(sockets: payload.sockets) : payload,
            supervisorPid: Syscalls.processID)
        return SpawnRequest(
            executable: program.executable, arguments: program.arguments, environment: environment,
            standardInput: standardInput, standardOutput: output.stdout, standardError: output.stderr,
            inherited: payload.sockets.map(\.descriptor), setsListenPid: !payload.sockets.isEmpty,
            blockedSignals: program.role == nil ? [] : configuration.stopSignals, slot: slot,
            watchdog: watchdog, workingDirectory: ofProgram?.workingDirectory)
    }

    private static func resolve(_ configuration: SupervisorConfiguration) throws(SupervisorError) -> [Executable] {
        let swiftExecutable: String
        let swiftArguments: [String]
        switch configuration.worker {
        case .swiftWorker(let executable, let arguments):
            swiftExecutable = executable ?? "/proc/self/exe"
            swiftArguments =
                [executable ?? CommandLine.arguments.first ?? "/proc/self/exe"]
                + (arguments ?? Array(CommandLine.arguments.dropFirst()))
        case .command:
            swiftExecutable = "/proc/self/exe"
            swiftArguments = CommandLine.arguments.isEmpty ? ["/proc/self/exe"] : CommandLine.arguments
        }
        func command(_ arguments: [String], slot: Int) throws(SupervisorError) -> Executable {
            guard let resolved = ExecutableLookup.resolve(arguments[0]) else {
                throw .spawnFailed(
                    SpawnError(executable: arguments[0], stage: .lookup, errno: .noSuchFileOrDirectory, slot: slot))
            }
            return Executable(executable: resolved, arguments: arguments, role: nil)
        }
        var programs: [Executable] = []
        if !configuration.programs.isEmpty {
            var slot = 0
            for program in configuration.programs {
                let resolved = try command(program.command, slot: slot)
                programs += Array(repeating: resolved, count: program.workers)
                slot += program.workers
            }
            return programs
        }
        let workerProgram: Executable
        switch configuration.worker {
        case .swiftWorker:
            workerProgram = Executable(executable: swiftExecutable, arguments: swiftArguments, role: .worker)
        case .command(let arguments, _): workerProgram = try command(arguments, slot: 0)
        }
        programs += Array(repeating: workerProgram, count: configuration.workers)
        for (offset, extra) in configuration.extras.enumerated() {
            switch extra.body {
            case .command(let arguments): programs.append(try command(arguments, slot: configuration.workers + offset))
            case .swift:
                programs.append(Executable(executable: swiftExecutable, arguments: swiftArguments, role: .extra))
            }
        }
        return programs
    }
}
