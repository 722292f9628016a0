import ArgumentParser
import CorralEngine
import CorralProject
import Glibc

/// `corral check [-f FILE]`: validates a project file (a `corral.toml` or a Procfile) and its env
/// files, and prints the plan: programs in start order, each with its command, processes,
/// readiness, dependencies, environment keys and `PORT`s. Exit 0, or 64 with every error found.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corral check",
        abstract: "Check a corral.toml or a Procfile and print what corral would run.",
        discussion:
            "Without -f: ./corral.toml, else ./Procfile. Errors are printed as FILE:LINE: message, every one "
            + "found; the exit status is then 64.")

    @Option(name: .short, help: ArgumentHelp("The project file (corral.toml or a Procfile).", valueName: "FILE"))
    var file: String?

    @Option(
        name: .customLong("env-file"),
        help: ArgumentHelp(
            "An env file for every program, instead of .env next to the file (repeatable; later files win).",
            valueName: "FILE"))
    var envFiles: [String] = []

    @Flag(name: .customLong("no-env-file"), help: "Read no .env file.")
    var noEnvFile = false

    @Option(help: ArgumentHelp("Processes per program, e.g. web=4,worker=2 or all=2.", valueName: "LIST"))
    var formation: String?

    @Option(
        name: .customLong("port-base"),
        help: ArgumentHelp("PORT of the first process of the first program (default 5000).", valueName: "PORT"))
    var portBase = 5000

    func run() throws {
        var options = ProjectOptions(file: file)
        options.envFiles = envFiles
        options.noEnvFile = noEnvFile
        options.formation = formation
        guard let path = ProjectLoader.locate(file: file) else {
            throw ControlExit(ConsoleRun.usageStatus, "no corral.toml or Procfile here; name one with -f FILE")
        }
        let (read, errors) = ProjectLoader.read(path, options: options)
        let all = errors + (read.map(ProgramOptions.check) ?? [])
        guard let project = read, all.isEmpty else {
            // One error per line, FILE:LINE: message, in file and line order.
            let sorted = all.sorted {
                ($0.file == path ? 0 : 1, $0.file, $0.line ?? 0) < ($1.file == path ? 0 : 1, $1.file, $1.line ?? 0)
            }
            throw ControlExit(ConsoleRun.usageStatus, ProjectErrors(errors: sorted).description, prefixed: false)
        }
        print(ProjectPlan.text(project, portBase: portBase, corralSetsPort: getenv("PORT") != nil))
    }
}
