/// A Procfile as honcho and foreman read it: `NAME: COMMAND` lines (NAME of letters, digits,
/// `_` and `-`), `#` comments and blank lines; each command is run by `/bin/sh -c`.
package enum Procfile {
    /// Parses `text` (named `file` in errors): one program per line, in order, or every error.
    package static func parse(_ text: String, file: String) -> Result<[ProgramDefinition], ProjectErrors> {
        var programs: [ProgramDefinition] = []
        var errors: [ProjectError] = []
        var seen: [String: Int] = [:]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let trimmed = String(raw.hasSuffix("\r") ? raw.dropLast() : raw).trimming(" \t")
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                errors.append(ProjectError(file: file, line: line, "not NAME: COMMAND, a comment or a blank line"))
                continue
            }
            let name = String(trimmed[..<colon]).trimming(" \t")
            let command = String(trimmed[trimmed.index(after: colon)...]).trimming(" \t")
            guard ProgramDefinition.isName(name) else {
                errors.append(
                    ProjectError(
                        file: file, line: line, "\"\(name)\" is not a program name (letters, digits, _ and -)"))
                continue
            }
            if let first = seen[name] {
                errors.append(
                    ProjectError(file: file, line: line, "program \(name) is defined twice (first on line \(first))"))
                continue
            }
            guard !command.isEmpty else {
                errors.append(ProjectError(file: file, line: line, "program \(name) has no command"))
                continue
            }
            seen[name] = line
            programs.append(ProgramDefinition(name: name, line: line, command: .shell(command)))
        }
        return errors.isEmpty ? .success(programs) : .failure(ProjectErrors(errors: errors))
    }
}
