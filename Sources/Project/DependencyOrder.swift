import CorralEngine

/// The order programs start in: a program after every program it depends on, otherwise in file
/// order (so a file without dependencies starts as it reads).
package enum DependencyOrder {
    /// The programs in start order; nil when their dependencies form a cycle (``cycle(_:)``).
    /// Dependencies on programs that do not exist are left out.
    package static func startOrder(_ programs: [ProgramDefinition]) -> [ProgramDefinition]? {
        var placed: Set<String> = []
        var order: [ProgramDefinition] = []
        let names = Set(programs.map(\.name))
        while order.count < programs.count {
            guard
                let next = programs.first(where: { program in
                    !placed.contains(program.name)
                        && program.dependencies.allSatisfy {
                            !names.contains($0.program) || placed.contains($0.program)
                        }
                })
            else { return nil }
            placed.insert(next.name)
            order.append(next)
        }
        return order
    }

    /// A dependency cycle, if there is one, as the names along it back to the first:
    /// `["web", "api", "web"]`.
    package static func cycle(_ programs: [ProgramDefinition]) -> [String]? {
        SupervisorConfiguration.dependencyCycle(programs.map { ($0.name, $0.dependencies.map(\.program)) })
    }
}
