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

    @OptionGroup var project: ProjectFileOptions

    func run() throws {
        guard let path = ProjectLoader.locate(file: project.file) else {
            throw ControlExit(ConsoleRun.usageStatus, "no corral.toml or Procfile here; name one with -f FILE")
        }
        let (read, errors) = ProjectLoader.read(path, options: project.options(for: path))
        let all = errors + (read.map(ProgramOptions.check) ?? [])
        guard let loaded = read, all.isEmpty else { throw ProjectRun.failure(all, path: path) }
        print(ProjectPlan.text(loaded, portBase: project.portBase, corralSetsPort: getenv("PORT") != nil))
    }
}
