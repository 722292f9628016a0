import ArgumentParser

/// `corral check`'s project file options (``ProjectFileSettings``). corral's own command declares
/// the same options itself rather than as this group: an option group costs a run's parse four
/// more scans of the binary's conformance records, a tenth of its start (BENCHMARKS.md, "Start-up").
struct ProjectFileOptions: ParsableArguments {
    @Option(name: ProjectFileSettings.fileNames, help: ProjectFileSettings.fileHelp)
    var file: String?

    @Option(name: ProjectFileSettings.envFileNames, help: ProjectFileSettings.envFileHelp)
    var envFiles: [String] = []

    @Flag(name: ProjectFileSettings.noEnvFileNames, help: ProjectFileSettings.noEnvFileHelp)
    var noEnvFile = false

    @Option(name: ProjectFileSettings.formationNames, help: ProjectFileSettings.formationHelp)
    var formation: String?

    @Option(name: ProjectFileSettings.portBaseNames, help: ProjectFileSettings.portBaseHelp)
    var portBaseGiven: Int?

    /// The options' values.
    var settings: ProjectFileSettings {
        ProjectFileSettings(
            file: file, envFiles: envFiles, noEnvFile: noEnvFile, formation: formation, portBaseGiven: portBaseGiven)
    }
}
