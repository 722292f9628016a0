import ArgumentParser
import CorralProject

/// A program's options from a project file, checked by the same rules as corral's command line.
enum ProgramOptions {
    /// The command-line words for `key` set to `values` (`keep-running = true` is the bare flag).
    static func arguments(_ key: String, _ values: [String]) -> [String] {
        if key == "keep-running" { return values == ["true"] ? ["--keep-running"] : [] }
        return values.flatMap { ["--\(key)", $0] }
    }

    /// Every option value of every program that corral's command line would refuse, each at the
    /// line that sets it.
    static func check(_ project: Project) -> [ProjectError] {
        var errors: [ProjectError] = []
        // Each distinct setting is parsed once (a top-level default is every program's).
        var verdicts: [[String]: String?] = [:]
        let terminal = TerminalFacts.current
        for program in project.programs {
            for key in program.options.keys.sorted() {
                guard let values = program.options[key] else { continue }
                let words = arguments(key, values) + ["--", "true"]
                let verdict: String?
                if let known = verdicts[words] {
                    verdict = known
                } else {
                    do {
                        _ = try CorralCommand.parse(splitting: words).settings(terminal: terminal)
                        verdict = nil
                    } catch {
                        verdict = CorralCommand.message(for: error).trimming(" \n")
                    }
                    verdicts[words] = verdict
                }
                guard let message = verdict else { continue }
                errors.append(
                    ProjectError(
                        file: project.file, line: program.keyLines[key] ?? program.line,
                        "\(program.name): \(key): \(message)"))
            }
        }
        return errors
    }
}
