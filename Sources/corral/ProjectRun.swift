import ArgumentParser
import CorralEngine
import CorralProject

/// A project file made ready to run: read and checked (every error as `FILE:LINE: message`, exit
/// 64), its options merged under the command line's, its programs as the engine's.
///
/// Every program runs with its command, processes, environment (env files, its `env`, `PORT`),
/// name, dependencies, one-shot flag, working directory and its own settings where they differ
/// between programs (``perProgramKeys``: readiness, restarts, stop signals, wait timeout, health,
/// memory limit, sockets). Other settings that differ between programs are refused at start,
/// with the line that sets them.
enum ProjectRun {
    /// The options each program may set for itself (unless the command line sets them for all).
    static let perProgramKeys: Set<String> = [
        "ready", "ready-after", "restart", "restart-delay", "restart-max-delay", "restart-reset", "max-restarts",
        "restart-window", "stop-signals", "wait-timeout", "health", "health-interval", "health-timeout",
        "health-failures", "max-memory", "listen",
    ]

    /// The command line with the file's options before its own (the command line's win), the
    /// programs to run, and the file as read.
    static func prepare(_ path: String, command: CorralCommand, arguments: [String]) throws -> (
        command: CorralCommand, programs: [CorralEngine.Program], project: Project
    ) {
        let (read, errors) = ProjectLoader.read(path, options: command.project.options(for: path))
        var problems = errors + (read.map(ProgramOptions.check) ?? [])
        guard let project = read, problems.isEmpty else { throw failure(problems, path: path) }
        problems += emptyDependencies(project)
        // A program's own settings, unless the command line sets them for every program.
        let givenOnCommandLine = { (key: String) in
            arguments.contains("--\(key)") || arguments.contains { $0.hasPrefix("--\(key)=") }
        }
        let own = perProgramKeys.filter { !givenOnCommandLine($0) }
        let (shared, differing) = sharedOptions(project, perProgram: own, problems: &problems)
        guard problems.isEmpty else { throw failure(problems, path: path) }
        // Sockets that differ between programs: the run binds them all, each program gets its own.
        var listens: [String] = []
        if differing.contains("listen") {
            for program in project.programs {
                for text in program.options["listen"] ?? [] where !listens.contains(text) { listens.append(text) }
            }
        }
        var merged: CorralCommand
        let run: ConsoleSettings
        do {
            merged = try CorralCommand.parse(splitting: shared + listens.flatMap { ["--listen", $0] } + arguments)
            run = try merged.settings(terminal: TerminalFacts.current)
        } catch {
            throw ControlExit(ConsoleRun.usageStatus, "\(path): \(CorralCommand.message(for: error))")
        }
        var programs: [CorralEngine.Program] = []
        for (position, definition) in project.programs.enumerated() where definition.workers > 0 {
            var program = engineProgram(definition, position: position, project: project, command: command)
            if !differing.isEmpty {
                let words = differing.subtracting(["listen"]).sorted().flatMap { key in
                    definition.options[key].map { ProgramOptions.arguments(key, $0) } ?? []
                }
                do {
                    let settings = try CorralCommand.parse(splitting: shared + words + arguments)
                        .settings(terminal: TerminalFacts.current)
                    try apply(settings, over: run, to: &program, differing: differing)
                } catch {
                    problems.append(
                        ProjectError(
                            file: project.file, line: definition.line,
                            "\(definition.name): \(CorralCommand.message(for: error).trimming(" \n"))"))
                }
                if differing.contains("listen") {
                    program.sockets = (definition.options["listen"] ?? []).compactMap { text in
                        listens.firstIndex(of: text).flatMap { try? ListenSpec(parsing: text, position: $0).name }
                    }
                }
            }
            programs.append(program)
        }
        guard problems.isEmpty else { throw failure(problems, path: path) }
        // Programs with wait timeouts of their own: the run's (its stop's last SIGKILL) is the longest.
        if differing.contains("wait-timeout"), let longest = programs.compactMap(\.waitTimeout).max() {
            let seconds = Double(longest.components.seconds) + Double(longest.components.attoseconds) / 1e18
            merged = try CorralCommand.parse(
                splitting: shared + listens.flatMap { ["--listen", $0] } + ["--wait-timeout", "\(seconds)"] + arguments)
        }
        guard !programs.isEmpty else {
            throw ControlExit(ConsoleRun.usageStatus, "\(path): every program has 0 processes (--formation)")
        }
        return (merged, programs, project)
    }

    /// The programs of the file at `path` read again as a run started with `arguments` read them
    /// (a reload), or every error found.
    static func reread(_ path: String, arguments: [String]) -> Result<[CorralEngine.Program], ProgramSource.Failure> {
        do {
            let command = try CorralCommand.parse(splitting: arguments)
            return .success(try prepare(path, command: command, arguments: arguments).programs)
        } catch let failure as ControlExit {
            return .failure(ProgramSource.Failure(failure.description))
        } catch {
            return .failure(ProgramSource.Failure("\(path): \(CorralCommand.message(for: error))"))
        }
    }

    /// The engine's program for a definition at `position` in the file: its command, processes,
    /// environment, `PORT`s, dependencies, one-shot flag and working directory.
    private static func engineProgram(
        _ definition: ProgramDefinition, position: Int, project: Project, command: CorralCommand
    ) -> CorralEngine.Program {
        let environment = project.environment.merging(project.programEnvironments[definition.name] ?? [:]) { $1 }
        let argv: [String]
        switch definition.command {
        case .shell(let line): argv = ["/bin/sh", "-c", line]
        case .argv(let words): argv = words
        }
        // A relative working directory is the project file's directory's.
        let directory = definition.workingDirectory.map { path in
            path.hasPrefix("/") || project.directory == "." ? path : project.directory + "/" + path
        }
        return CorralEngine.Program(
            definition.name, command: argv, workers: definition.workers, environment: environment,
            firstPort: Project.port(base: command.project.portBase, position: position, index: 0),
            dependencies: definition.dependencies, oneshot: definition.oneshot, workingDirectory: directory)
    }

    /// A program's own settings (`settings`) where they differ from the run's; its wait timeout
    /// whenever programs set different ones (the run's is then the longest).
    private static func apply(
        _ settings: ConsoleSettings, over run: ConsoleSettings, to program: inout CorralEngine.Program,
        differing: Set<String>
    ) throws(UsageError) {
        if case .programs(_, let readiness, _) = settings.program, case .programs(_, let shared, _) = run.program,
            readiness != shared
        {
            program.readiness = readiness
        }
        if settings.readiness.readyAfter != run.readiness.readyAfter {
            program.readyAfter = settings.readiness.readyAfter
        }
        if settings.restartPolicy != run.restartPolicy || settings.restartBackoff != run.restartBackoff {
            program.restartPolicy = settings.restartPolicy
            program.restartBackoff = settings.restartBackoff
        }
        if settings.stopSignals != run.stopSignals { program.stopSignals = settings.stopSignals }
        if settings.waitTimeout != run.waitTimeout || differing.contains("wait-timeout") {
            guard let timeout = settings.waitTimeout else {
                throw UsageError(description: "wait-timeout: one program cannot wait forever while others do not")
            }
            program.waitTimeout = timeout
        }
        if settings.health != run.health {
            guard let health = settings.health else {
                throw UsageError(description: "health: set at the top of the file, it is every program's")
            }
            program.health = health
        }
        if settings.maxMemory != run.maxMemory {
            guard let limit = settings.maxMemory else {
                throw UsageError(description: "max-memory: set at the top of the file, it is every program's")
            }
            program.maxMemory = limit
        }
    }

    /// Dependencies on programs `--formation` runs no process of (they could never hold).
    private static func emptyDependencies(_ project: Project) -> [ProjectError] {
        var problems: [ProjectError] = []
        for program in project.programs {
            for dependency in program.dependencies {
                guard let target = project.programs.first(where: { $0.name == dependency.program }), target.workers == 0
                else { continue }
                problems.append(
                    ProjectError(
                        file: project.file, line: program.keyLines["depends-on"] ?? program.line,
                        "\(program.name) depends on \(target.name), which --formation runs no process of"))
            }
        }
        return problems
    }

    /// The options every program sets alike, as command-line words, and the options of
    /// `perProgram` that programs set differently; a problem for each other option set
    /// differently by different programs.
    private static func sharedOptions(
        _ project: Project, perProgram: Set<String>, problems: inout [ProjectError]
    ) -> (words: [String], differing: Set<String>) {
        var words: [String] = []
        var differing: Set<String> = []
        let keys = Set(project.programs.flatMap(\.options.keys)).sorted()
        for key in keys {
            let values = project.programs.map { $0.options[key] }
            guard let first = values.first, values.allSatisfy({ $0 == first }) else {
                if perProgram.contains(key) {
                    differing.insert(key)
                    continue
                }
                // At the line of a program's own setting (the top-level default is everyone's).
                let own = project.programs.compactMap { $0.keyLines[key] }.max()
                problems.append(
                    ProjectError(
                        file: project.file, line: own,
                        "\(key) differs between programs: it is the whole run's; set it once at the top of the file"))
                continue
            }
            if let first { words += ProgramOptions.arguments(key, first) }
        }
        return (words, differing)
    }

    /// Exit 64 with every problem as `FILE:LINE: message`, the project file's first, in line order.
    static func failure(_ problems: [ProjectError], path: String) -> ControlExit {
        let sorted = problems.sorted {
            ($0.file == path ? 0 : 1, $0.file, $0.line ?? 0) < ($1.file == path ? 0 : 1, $1.file, $1.line ?? 0)
        }
        return ControlExit(ConsoleRun.usageStatus, ProjectErrors(errors: sorted).description, prefixed: false)
    }
}
