extension SupervisorConfiguration {
    /// The programs of a run of several: names valid and unique, commands given, at least one
    /// process each, ``workers`` their total, ``worker`` a command and no extras.
    func validatePrograms() throws(ConfigurationError) {
        guard !programs.isEmpty else { return }
        var names: Set<String> = []
        for program in programs {
            let valid =
                !program.name.isEmpty
                && program.name.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                        || $0 == "-"
                }
            guard valid else {
                throw ConfigurationError(
                    field: "programs", problem: "\"\(program.name)\" is not a program name (letters, digits, _ and -)")
            }
            guard names.insert(program.name).inserted else {
                throw ConfigurationError(field: "programs", problem: "\(program.name) is named twice")
            }
            guard program.workers >= 1 else {
                throw ConfigurationError(field: "programs", problem: "\(program.name) runs no process")
            }
            guard let first = program.command.first, !first.isEmpty else {
                throw ConfigurationError(field: "programs", problem: "\(program.name) has no command")
            }
        }
        let total = programs.reduce(0) { $0 + $1.workers }
        guard total == workers else {
            throw ConfigurationError(
                field: "workers", problem: "\(workers) is not the programs' \(total) processes")
        }
        guard extras.isEmpty, case .command = worker else {
            throw ConfigurationError(field: "programs", problem: "a run of programs has command workers and no extras")
        }
    }
}
