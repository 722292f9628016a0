import CorralEngine
import CorralProject

/// A project file made ready to run: read and checked (every error as `FILE:LINE: message`, exit
/// 64), its options merged under the command line's, its programs as the engine's.
///
/// What runs today: every program with its command, processes, environment (env files, its
/// `env`, `PORT`), name, dependencies, one-shot flag, working directory and readiness (`ready`,
/// `ready-after`). Other settings that differ between programs are read and checked but refused
/// at start, with the line that sets them, until the engine runs them.
enum ProjectRun {
    /// The command line with the file's options before its own (the command line's win), and
    /// the programs to run.
    static func prepare(_ path: String, command: CorralCommand, arguments: [String]) throws -> (
        CorralCommand, [CorralEngine.Program]
    ) {
        let (read, errors) = ProjectLoader.read(path, options: command.project.options(for: path))
        var problems = errors + (read.map(ProgramOptions.check) ?? [])
        guard let project = read, problems.isEmpty else { throw failure(problems, path: path) }
        problems += emptyDependencies(project)
        // Readiness is a program's own unless the command line sets it for every program.
        let givenOnCommandLine = { (key: String) in
            arguments.contains("--\(key)") || arguments.contains { $0.hasPrefix("--\(key)=") }
        }
        let ownKeys = Set(["ready", "ready-after"].filter { !givenOnCommandLine($0) })
        let shared = sharedOptions(project, except: ownKeys, problems: &problems)
        guard problems.isEmpty else { throw failure(problems, path: path) }
        let merged: CorralCommand
        do {
            merged = try CorralCommand.parse(splitting: shared + arguments)
        } catch {
            throw ControlExit(ConsoleRun.usageStatus, "\(path): \(CorralCommand.message(for: error))")
        }
        let programs = project.programs.enumerated().compactMap { position, definition -> CorralEngine.Program? in
            guard definition.workers > 0 else { return nil }
            let environment = project.environment.merging(project.programEnvironments[definition.name] ?? [:]) { $1 }
            let argv: [String]
            switch definition.command {
            case .shell(let line): argv = ["/bin/sh", "-c", line]
            case .argv(let words): argv = words
            }
            let dependencies = definition.dependencies.map { dependency in
                CorralEngine.Program.Dependency(
                    dependency.program,
                    CorralEngine.Program.Condition(rawValue: dependency.condition.rawValue) ?? .ready)
            }
            // A relative working directory is the project file's directory's.
            let directory = definition.workingDirectory.map { path in
                path.hasPrefix("/") || project.directory == "." ? path : project.directory + "/" + path
            }
            var program = CorralEngine.Program(
                definition.name, command: argv, workers: definition.workers, environment: environment,
                firstPort: Project.port(base: command.project.portBase, position: position, index: 0),
                dependencies: definition.dependencies, oneshot: definition.oneshot, workingDirectory: directory)
            // Values checked already (ProgramOptions.check): these parse.
            if ownKeys.contains("ready"), let text = definition.options["ready"]?.first {
                program.readiness = try? Readiness(parsing: text)
            }
            if ownKeys.contains("ready-after"), let text = definition.options["ready-after"]?.first {
                program.readyAfter = try? CorralCommand.parseSeconds(text, option: "ready-after")
            }
            return program
        }
        guard !programs.isEmpty else {
            throw ControlExit(ConsoleRun.usageStatus, "\(path): every program has 0 processes (--formation)")
        }
        return (merged, programs)
    }

    /// The programs of the file at `path` read again as a run started with `arguments` read them
    /// (a reload), or every error found.
    static func reread(_ path: String, arguments: [String]) -> Result<[CorralEngine.Program], ProgramSource.Failure> {
        do {
            let command = try CorralCommand.parse(splitting: arguments)
            return .success(try prepare(path, command: command, arguments: arguments).1)
        } catch let failure as ControlExit {
            return .failure(ProgramSource.Failure(failure.description))
        } catch {
            return .failure(ProgramSource.Failure("\(path): \(CorralCommand.message(for: error))"))
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

    /// The options every program sets alike, as command-line words; a problem for each option
    /// set differently by different programs (per-program settings are not run yet).
    private static func sharedOptions(_ project: Project, except own: Set<String>, problems: inout [ProjectError])
        -> [String]
    {
        var words: [String] = []
        let keys = Set(project.programs.flatMap(\.options.keys)).subtracting(own).sorted()
        for key in keys {
            let values = project.programs.map { $0.options[key] }
            guard let first = values.first, values.allSatisfy({ $0 == first }) else {
                // At the line of a program's own setting (the top-level default is everyone's).
                let own = project.programs.compactMap { $0.keyLines[key] }.max()
                problems.append(
                    ProjectError(
                        file: project.file, line: own,
                        "\(key) differs between programs: settings of one program alone are not run yet; "
                            + "set it once at the top of the file"))
                continue
            }
            if let first { words += ProgramOptions.arguments(key, first) }
        }
        return words
    }

    /// Exit 64 with every problem as `FILE:LINE: message`, the project file's first, in line order.
    static func failure(_ problems: [ProjectError], path: String) -> ControlExit {
        let sorted = problems.sorted {
            ($0.file == path ? 0 : 1, $0.file, $0.line ?? 0) < ($1.file == path ? 0 : 1, $1.file, $1.line ?? 0)
        }
        return ControlExit(ConsoleRun.usageStatus, ProjectErrors(errors: sorted).description, prefixed: false)
    }
}
