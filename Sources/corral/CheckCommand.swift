import ArgumentParser
import CorralEngine
import CorralProject
import Glibc

/// `corral check [-f FILE]`: validates a project file (a `corral.toml` or a Procfile) and its env
/// files, and prints the plan: programs in start order, each with its command, processes,
/// readiness, dependencies, environment keys and `PORT`s. Exit 0, or 64 with every error found.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", _superCommandName: "corral",
        abstract: "Check a corral.toml or a Procfile and print what corral would run.",
        discussion:
            "Without -f: ./corral.toml, else ./Procfile. Errors are printed as FILE:LINE: message, every one "
            + "found; the exit status is then 64.")

    @OptionGroup var project: ProjectFileOptions

    func run() throws {
        let project = self.project.settings
        guard let path = ProjectLoader.locate(file: project.file) else {
            throw ControlExit(ConsoleRun.usageStatus, "no corral.toml or Procfile here; name one with -f FILE")
        }
        // Checked as a run checks it, without running it.
        var arguments = ["-f", path, "--port-base", "\(project.portBase)"]
        arguments += project.envFiles.flatMap { ["--env-file", $0] } + (project.noEnvFile ? ["--no-env-file"] : [])
        arguments += project.formation.map { ["--formation", $0] } ?? []
        let loaded = try ProjectRun.prepare(
            path, command: try CorralCommand.parse(splitting: arguments), arguments: arguments
        )
        .project
        print(ProjectPlan.text(loaded, portBase: project.portBase, corralSetsPort: getenv("PORT") != nil))
    }
}
