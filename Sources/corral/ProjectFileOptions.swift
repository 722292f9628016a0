import ArgumentParser
import CorralProject

/// The options that find and read a project file (a corral.toml or a Procfile), shared by a run
/// and by `corral check`.
struct ProjectFileOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("file")],
        help: ArgumentHelp(
            "A corral.toml or a Procfile (without it and without a command: ./corral.toml, else ./Procfile, else "
                + "the demo).", valueName: "FILE"))
    var file: String?

    @Option(
        name: .customLong("env-file"),
        help: ArgumentHelp(
            "An env file for every program of a project file, instead of the .env next to it (repeatable; later "
                + "files win).", valueName: "FILE"))
    var envFiles: [String] = []

    @Flag(name: .customLong("no-env-file"), help: "Read no .env file for a project file.")
    var noEnvFile = false

    @Option(
        help: ArgumentHelp(
            "Processes per program of a project file, e.g. web=4,worker=2 or all=2 (0: not started).",
            valueName: "LIST"))
    var formation: String?

    @Option(
        name: .customLong("port-base"),
        help: ArgumentHelp(
            "PORT of a project's first process: process I of the program at position P gets BASE + 100 × P + I. "
                + "(default: 5000)",
            valueName: "PORT"))
    var portBaseGiven: Int?

    /// --port-base, or its default. The options with a number for a value have no default of
    /// the parser's own (it is written in their help instead): with one the parser printed the
    /// number through run-time reflection at every start, four scans of the conformance records
    /// (BENCHMARKS.md, "Start-up").
    var portBase: Int { portBaseGiven ?? 5000 }

    /// How `path` and its env files are read.
    func options(for path: String) -> ProjectOptions {
        var options = ProjectOptions(file: path)
        options.envFiles = envFiles
        options.noEnvFile = noEnvFile
        options.formation = formation
        return options
    }
}
