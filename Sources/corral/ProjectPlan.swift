import CorralProject

/// What `corral check` prints: the programs in start order, each with its command, processes,
/// readiness, other settings, dependencies, environment keys and `PORT`s.
enum ProjectPlan {
    /// The plan of `project`. `corralSetsPort`: corral's own environment has `PORT` (then no
    /// process gets one of its own).
    static func text(_ project: Project, portBase: Int, corralSetsPort: Bool) -> String {
        let ordered = DependencyOrder.startOrder(project.programs) ?? project.programs
        let count = project.programs.count
        var lines = ["\(project.file): \(count) program\(count == 1 ? "" : "s"), in start order"]
        if !project.envFiles.isEmpty { lines.append("env files: \(project.envFiles.joined(separator: ", "))") }
        for program in ordered {
            let position = project.programs.firstIndex { $0.name == program.name } ?? 0
            let own = project.programEnvironments[program.name] ?? [:]
            let keys = Set(project.environment.keys).union(own.keys).sorted()
            var heading = "\(program.name)  \(program.workers) process\(program.workers == 1 ? "" : "es")"
            if program.oneshot { heading += ", one-shot" }
            lines.append("")
            lines.append(heading)
            lines.append("  command      \(program.command.text)")
            if let directory = program.workingDirectory { lines.append("  working dir  \(directory)") }
            let ready = program.options["ready"]?.first ?? "exec"
            lines.append("  readiness    \(program.oneshot ? "none (a one-shot completes when it exits 0)" : ready)")
            // Its own settings (those of the whole run are not the program's).
            let settings = program.options.filter { $0.key != "ready" && ProjectRun.perProgramKeys.contains($0.key) }
                .sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value.joined(separator: ", "))" }
            if !settings.isEmpty { lines.append("  settings     \(settings.joined(separator: " · "))") }
            let dependencies = program.dependencies.map(\.text).joined(separator: ", ")
            lines.append("  depends on   \(dependencies.isEmpty ? "-" : dependencies)")
            lines.append("  environment  \(keys.isEmpty ? "-" : keys.joined(separator: ", "))")
            lines.append(
                "  PORT         \(portText(program, position: position, base: portBase, own: own, project: project, corralSetsPort: corralSetsPort))"
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func portText(
        _ program: ProgramDefinition, position: Int, base: Int, own: [String: String], project: Project,
        corralSetsPort: Bool
    ) -> String {
        if let port = own["PORT"] ?? project.environment["PORT"] { return "\(port) (set by its environment)" }
        if corralSetsPort { return "corral's own PORT" }
        guard program.workers > 0 else { return "-" }
        let first = Project.port(base: base, position: position, index: 0)
        return program.workers == 1 ? "\(first)" : "\(first)-\(first + program.workers - 1)"
    }
}
