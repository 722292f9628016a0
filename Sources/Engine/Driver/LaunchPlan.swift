import Glibc
import SystemPackage

/// What each slot runs and how a spawn request for it is built: the programs resolved once, up
/// front (a command that is not found fails the run before anything is spawned; a file reload's
/// new commands are resolved before it is accepted), and the environment, descriptors and
/// signal mask every child gets.
final class LaunchPlan {
    /// How to start one slot: what it executes.
    struct Executable {
        var executable: String
        var arguments: [String]
        /// Worker or extra for Swift children (re-executed binary); nil for commands.
        var role: ChildKind?
    }

    /// A process of a program, as the core places it: the program's definition now, the
    /// process's name and how many processes the program runs.
    struct Seat {
        var program: Program
        var name: ProcessName
        var count: Int
    }

    /// In a run of one command, every configured slot's program, by slot (slots added by
    /// scaling run ``workerProgram``).
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
    /// In a run of programs, the programs' commands resolved, by command.
    private var commands: [[String]: Executable] = [:]
    /// In a run of programs, the start of the environment for each set of a program's variables
    /// (those over the base).
    private var programEnvironments: [[String: String]: [String]] = [:]

    /// Resolves every slot's program; throws for a command not found.
    init(configuration: SupervisorConfiguration, payload: LaunchPayload) throws(SupervisorError) {
        self.configuration = configuration
        self.payload = payload
        let base = ChildEnvironment.base(inherited: Environment.entries(), additions: configuration.environment)
        baseEnvironment = base
        programs = try Self.resolve(configuration)
        workerProgram =
            programs.first ?? Executable(executable: "/proc/self/exe", arguments: ["/proc/self/exe"], role: nil)
        executableOnDisk = Syscalls.readLink("/proc/self/exe")
        try resolve(configuration.programs)
    }

    /// Resolves the commands of `programs` for later spawns; throws for the first one not found
    /// (resolving nothing more).
    func resolve(_ programs: [Program]) throws(SupervisorError) {
        var found: [[String]: Executable] = [:]
        var slot = 0
        for program in programs {
            defer { slot += program.workers }
            guard commands[program.command] == nil, found[program.command] == nil else { continue }
            found[program.command] = try Self.command(program.command, slot: slot)
        }
        commands.merge(found) { _, new in new }
    }

    /// The program of `slot`, a configured slot or one added by scaling, or its program's
    /// command (`seat`).
    func program(_ slot: Int, seat: Seat? = nil) -> Executable {
        if let seat {
            return commands[seat.program.command]
                ?? Executable(
                    executable: seat.program.command.first ?? "", arguments: seat.program.command, role: nil)
        }
        return slot < programs.count ? programs[slot] : workerProgram
    }

    /// The start of the environment of a program's processes: its variables over the base.
    private func environment(of program: Program) -> [String] {
        if let known = programEnvironments[program.environment] { return known }
        let made = ChildEnvironment.over(baseEnvironment, program.environment)
        programEnvironments[program.environment] = made
        return made
    }

    /// What exec needs to start `slot` writing to `output`, with the supervisor's shared
    /// descriptors: stdin, the watchdog's pipe, the notify socket's address. A worker is told
    /// `workerCount` (the worker slots now); an extra, the configured count its index follows.
    func request(
        _ slot: Int, seat: Seat?, output: (stdout: CInt, stderr: CInt), standardInput: CInt, watchdog: CInt?,
        notifyAddress: String, workerCount: Int, fromDisk: Bool = false
    ) -> SpawnRequest {
        var program = program(slot, seat: seat)
        if fromDisk, program.role != nil, program.executable == "/proc/self/exe", let onDisk = executableOnDisk {
            program.executable = onDisk
        }
        let isExtra = slot >= configuration.workers && slot < programs.count
        let name = seat?.name ?? configuration.processName(ofSlot: slot)
        let ofProgram = seat?.program
        // A program that names its sockets gets those only.
        let sockets =
            ofProgram?.sockets.map { names in payload.sockets.filter { names.contains($0.name) } }
            ?? payload.sockets
        let environment = ChildEnvironment.build(
            base: ofProgram.map(environment(of:)) ?? baseEnvironment,
            index: ofProgram == nil ? slot : name.index, name: name, role: program.role,
            workerCount: seat?.count ?? (isExtra ? configuration.workers : workerCount),
            port: ofProgram?.firstPort.map { $0 + name.index },
            stopSignals: ofProgram?.stopSignals ?? configuration.stopSignals, notifyAddress: notifyAddress,
            payload: program.role == nil ? LaunchPayload(sockets: sockets) : payload,
            supervisorPid: Syscalls.processID)
        return SpawnRequest(
            executable: program.executable, arguments: program.arguments, environment: environment,
            standardInput: standardInput, standardOutput: output.stdout, standardError: output.stderr,
            inherited: sockets.map(\.descriptor), setsListenPid: !sockets.isEmpty,
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
        var programs: [Executable] = []
        if !configuration.programs.isEmpty { return [] }
        let workerProgram: Executable
        switch configuration.worker {
        case .swiftWorker:
            workerProgram = Executable(executable: swiftExecutable, arguments: swiftArguments, role: .worker)
        case .command(let arguments, _): workerProgram = try Self.command(arguments, slot: 0)
        }
        programs += Array(repeating: workerProgram, count: configuration.workers)
        for (offset, extra) in configuration.extras.enumerated() {
            switch extra.body {
            case .command(let arguments):
                programs.append(try Self.command(arguments, slot: configuration.workers + offset))
            case .swift:
                programs.append(Executable(executable: swiftExecutable, arguments: swiftArguments, role: .extra))
            }
        }
        return programs
    }

    /// A command's program found on `PATH` (as exec would); throws a lookup error naming `slot`.
    private static func command(_ arguments: [String], slot: Int) throws(SupervisorError) -> Executable {
        guard let first = arguments.first, let resolved = ExecutableLookup.resolve(first) else {
            throw .spawnFailed(
                SpawnError(
                    executable: arguments.first ?? "", stage: .lookup, errno: .noSuchFileOrDirectory, slot: slot))
        }
        return Executable(executable: resolved, arguments: arguments, role: nil)
    }
}
