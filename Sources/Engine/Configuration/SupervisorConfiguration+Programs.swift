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
        for program in programs {
            for dependency in program.dependencies where !names.contains(dependency.program) {
                throw ConfigurationError(
                    field: "programs",
                    problem: "\(program.name) depends on \(dependency.program), which is not a program")
            }
        }
        if let cycle = dependencyCycle() {
            throw ConfigurationError(
                field: "programs", problem: "a dependency cycle: \(cycle.joined(separator: " -> "))")
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

extension SupervisorConfiguration {
    /// A dependency cycle among the programs, as the names along it back to the first.
    func dependencyCycle() -> [String]? {
        Self.dependencyCycle(programs.map { ($0.name, $0.dependencies.map(\.program)) })
    }

    /// A cycle among named things and the names each depends on, as the names along it back to
    /// the first (`web -> api -> web`); names depended on that are not listed are left out.
    package static func dependencyCycle(_ nodes: [(name: String, dependencies: [String])]) -> [String]? {
        let byName = Dictionary(nodes.map { ($0.name, $0.dependencies) }, uniquingKeysWith: { first, _ in first })
        var done: Set<String> = []
        func visit(_ name: String, _ path: inout [String]) -> [String]? {
            if let start = path.firstIndex(of: name) { return Array(path[start...]) + [name] }
            guard !done.contains(name), let dependencies = byName[name] else { return nil }
            path.append(name)
            for dependency in dependencies {
                if let found = visit(dependency, &path) { return found }
            }
            path.removeLast()
            done.insert(name)
            return nil
        }
        for node in nodes {
            var path: [String] = []
            if let found = visit(node.name, &path) { return found }
        }
        return nil
    }
}

extension SupervisorConfiguration {
    /// The workers' readiness: `READY=1` for Swift workers, as configured for a command.
    var workerReadiness: Readiness {
        switch worker {
        case .swiftWorker: return .notify
        case .command(_, let readiness): return readiness
        }
    }
}
