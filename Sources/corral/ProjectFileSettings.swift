import ArgumentParser
import CorralProject

/// Which project file (a corral.toml or a Procfile) a run or `corral check` reads, and how:
/// `-f`, `--env-file`, `--no-env-file`, `--formation`, `--port-base`. Their names and help are
/// here once, for the two commands that declare them.
struct ProjectFileSettings {
    /// `-f FILE`.
    var file: String?
    /// `--env-file`, in order.
    var envFiles: [String] = []
    /// `--no-env-file`.
    var noEnvFile = false
    /// `--formation`.
    var formation: String?
    /// `--port-base`, when given.
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

    /// `-f`'s names.
    static let fileNames: NameSpecification = [.customShort("f"), .customLong("file")]
    /// `-f`'s help.
    static let fileHelp = ArgumentHelp(
        "A corral.toml or a Procfile (without it and without a command: ./corral.toml, else ./Procfile, else "
            + "the demo).", valueName: "FILE")
    /// `--env-file`'s name.
    static let envFileNames: NameSpecification = .customLong("env-file")
    /// `--env-file`'s help.
    static let envFileHelp = ArgumentHelp(
        "An env file for every program of a project file, instead of the .env next to it (repeatable; later "
            + "files win).", valueName: "FILE")
    /// `--no-env-file`'s name.
    static let noEnvFileNames: NameSpecification = .customLong("no-env-file")
    /// `--no-env-file`'s help.
    static let noEnvFileHelp: ArgumentHelp = "Read no .env file for a project file."
    /// `--formation`'s name, given rather than taken from each declaration's property name.
    static let formationNames: NameSpecification = .customLong("formation")
    /// `--formation`'s help.
    static let formationHelp = ArgumentHelp(
        "Processes per program of a project file, e.g. web=4,worker=2 or all=2 (0: not started).",
        valueName: "LIST")
    /// `--port-base`'s name.
    static let portBaseNames: NameSpecification = .customLong("port-base")
    /// `--port-base`'s help.
    static let portBaseHelp = ArgumentHelp(
        "PORT of a project's first process: process I of the program at position P gets BASE + 100 × P + I. "
            + "(default: 5000)",
        valueName: "PORT")
}
